# Sanitizer and fuzzing builds of the engine (CONTRIBUTING.md, "Sanitizers and fuzzing").
#
#   MAAS_SANITIZE=address,undefined  every target (engine, addon, GoogleTest suite, fuzzers)
#                                    is compiled and linked with -fsanitize=<list>; any
#                                    sanitizer report aborts (no recovery), so a test fails.
#   MAAS_FUZZ=ON                     (Clang only) the engine is built with libFuzzer's coverage
#                                    instrumentation and native/fuzz/ adds one fuzzer per target.
#
# Included before any target is defined: the flags are directory-wide on purpose,
# so that no object of the engine escapes instrumentation.
set(MAAS_SANITIZE "" CACHE STRING
  "Comma-separated sanitizers for every target, e.g. address,undefined (empty: none)")
option(MAAS_FUZZ "Build the libFuzzer targets in native/fuzz (needs Clang)" OFF)

if(MAAS_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    message(FATAL_ERROR "MAAS_SANITIZE needs GCC or Clang (found ${CMAKE_CXX_COMPILER_ID})")
  endif()
  add_compile_options(-fsanitize=${MAAS_SANITIZE} -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${MAAS_SANITIZE})
  message(STATUS "maas: sanitizers ${MAAS_SANITIZE}")
endif()

if(MAAS_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "MAAS_FUZZ needs Clang (libFuzzer); configure with -DCMAKE_CXX_COMPILER=clang++-19")
  endif()
  # Coverage for libFuzzer in every object; the fuzzer executables add the driver
  # (-fsanitize=fuzzer). Other executables get the sanitizer runtime's no-op hooks.
  add_compile_options(-fsanitize=fuzzer-no-link)
  message(STATUS "maas: libFuzzer targets ON")
endif()
