// Build-wide macros: the always-on assertion and symbol visibility.
#pragma once

#include <cstdio>
#include <cstdlib>

/// Marks a symbol that must be visible outside a shared libquorum, even under
/// -fvisibility=hidden.
#if defined(_WIN32)
#define QUORUM_API
#else
#define QUORUM_API __attribute__((visibility("default")))
#endif

namespace quorum::detail {
[[noreturn]] inline void assertion_failed(const char* condition, const char* file, int line,
                                          const char* why) noexcept {
  std::fprintf(stderr, "quorum: assertion failed: %s (%s) at %s:%d\n", condition, why, file, line);
  std::fflush(stderr);
  std::abort();
}
}  // namespace quorum::detail

/// Checks an invariant of the library itself, in every build type. A failure is a bug in quorum
/// (never bad input): it prints the condition and where, then aborts on the calling thread.
#define QUORUM_ASSERT(condition, why)                                            \
  do {                                                                           \
    if (!(condition)) [[unlikely]]                                               \
      ::quorum::detail::assertion_failed(#condition, __FILE__, __LINE__, (why)); \
  } while (false)
