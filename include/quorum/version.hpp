// The one place the version lives; CMakeLists.txt parses it.
#pragma once

#define QUORUM_VERSION_MAJOR 0
#define QUORUM_VERSION_MINOR 1
#define QUORUM_VERSION_PATCH 0

namespace quorum {
/// The library version as "major.minor.patch".
inline constexpr const char* version_string = "0.1.0";
}  // namespace quorum
