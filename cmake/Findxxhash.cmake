# Finds xxHash (the log's record checksums) and provides the imported target xxhash::xxhash.
#
# vcpkg and Conan install a CONFIG package (xxHash::xxhash); it is tried first. Debian's
# libxxhash-dev ships xxhash.h and libxxhash.so without a CMake package.
include(FindPackageHandleStandardArgs)

find_package(xxHash CONFIG QUIET)
if(TARGET xxHash::xxhash)
  if(NOT TARGET xxhash::xxhash)
    add_library(xxhash::xxhash INTERFACE IMPORTED)
    set_target_properties(xxhash::xxhash PROPERTIES INTERFACE_LINK_LIBRARIES xxHash::xxhash)
  endif()
  set(xxhash_FOUND TRUE)
  return()
endif()

find_path(xxhash_INCLUDE_DIR NAMES xxhash.h)
find_library(xxhash_LIBRARY NAMES xxhash)
find_package_handle_standard_args(xxhash REQUIRED_VARS xxhash_LIBRARY xxhash_INCLUDE_DIR)

if(xxhash_FOUND AND NOT TARGET xxhash::xxhash)
  add_library(xxhash::xxhash UNKNOWN IMPORTED)
  set_target_properties(xxhash::xxhash PROPERTIES
    IMPORTED_LOCATION "${xxhash_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${xxhash_INCLUDE_DIR}")
endif()
mark_as_advanced(xxhash_INCLUDE_DIR xxhash_LIBRARY)
