# The API reference: Doxygen over the public headers (docs/Doxyfile.in), into <build>/docs/api/html.
# `cmake --build build --target docs` builds it; the test api_reference_complete fails on any undocumented
# public class, function, member or enumerator (WARN_IF_UNDOCUMENTED + WARN_AS_ERROR).
find_program(DOXYGEN_PROGRAM doxygen)
if(NOT DOXYGEN_PROGRAM)
  message(STATUS "doxygen not found: no docs target, no API reference test")
  return()
endif()
set(TESSERA_DOCS_OUTPUT ${PROJECT_BINARY_DIR}/docs/api)
configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${PROJECT_BINARY_DIR}/docs/Doxyfile @ONLY)
add_custom_target(docs COMMAND ${DOXYGEN_PROGRAM} ${PROJECT_BINARY_DIR}/docs/Doxyfile
                  WORKING_DIRECTORY ${PROJECT_BINARY_DIR}/docs COMMENT "doxygen: the API reference" VERBATIM)
if(TESSERA_BUILD_TESTS)
  add_test(NAME api_reference_complete COMMAND ${DOXYGEN_PROGRAM} ${PROJECT_BINARY_DIR}/docs/Doxyfile
           WORKING_DIRECTORY ${PROJECT_BINARY_DIR}/docs)
  set_tests_properties(api_reference_complete PROPERTIES LABELS "unit;docs")
endif()
