# quorum_set_warnings(<target>): the warning set every quorum target builds with.
function(quorum_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
    -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough
    # Designated initializers that leave defaulted members out are the intended style.
    -Wno-missing-field-initializers)
  if(QUORUM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
