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
  target_compile_options(${target} PRIVATE ${_flags})
  target_link_options(${target} PRIVATE -fsanitize=${QUORUM_SANITIZE})
endfunction()
