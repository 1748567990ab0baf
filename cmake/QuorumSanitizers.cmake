# quorum_enable_sanitizers(<target>): builds <target> with the sanitizers named in
# QUORUM_SANITIZE ("address,undefined" or "thread"), failing hard on the first report.
function(quorum_enable_sanitizers target)
  if(NOT QUORUM_SANITIZE)
    return()
  endif()
  set(_flags -fsanitize=${QUORUM_SANITIZE} -fno-omit-frame-pointer -g)
  if(QUORUM_SANITIZE MATCHES "undefined")
    list(APPEND _flags -fno-sanitize-recover=all)
  endif()
  # GCC warns that TSan does not model the standalone fences in Asio's handler dispatch
  # (asio/detail/std_fenced_block.hpp); the handoffs they guard also go through the
  # io_context's mutex, which TSan does see.
  if(QUORUM_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    list(APPEND _flags -Wno-tsan)
  endif()
  target_compile_options(${target} PRIVATE ${_flags})
  target_link_options(${target} PRIVATE -fsanitize=${QUORUM_SANITIZE})
endfunction()
