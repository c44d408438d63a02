# CTest (script mode): the generated shader_features.h must say exactly what glslc accepts now.
# Re-runs every probe of shaders/probes/ with the build's glslc (the same function the configure
# step used) and compares each TESSERA_GLSL_HAS_<FEATURE> line of the header; also checks that every
# probe has a line (no stale or missing feature) and that no gated kernel is marked built while its
# probe fails. Fails on any difference (e.g. glslc upgraded without reconfiguring).
# -D GLSLC=... -D PROBES=<shaders/probes> -D SCRATCH=<dir> -D HEADER=<build/shaders/shader_features.h>
#    -D FEATURES_CMAKE=<shaders/glsl_features.cmake>
include(${FEATURES_CMAKE})
tessera_probe_glsl_features(${GLSLC} ${PROBES} ${SCRATCH} NOW)
file(READ ${HEADER} header)
set(failures "")
set(accepted 0)
foreach(f ${NOW_NAMES})
  string(REGEX MATCH "#define TESSERA_GLSL_HAS_${f} ([01])" line "${header}")
  if(NOT line)
    string(APPEND failures "\n  ${f}: no TESSERA_GLSL_HAS_${f} line in the header")
    continue()
  endif()
  set(in_header ${CMAKE_MATCH_1})
  if(NOT in_header EQUAL NOW_${f}_OK)
    string(APPEND failures "\n  ${f} (${NOW_${f}_EXTENSION}): header says ${in_header}, glslc now ${NOW_${f}_OK}")
  endif()
  if(NOW_${f}_OK)
    math(EXPR accepted "${accepted} + 1")
  endif()
  string(TOLOWER ${f} lower)
  if(NOT NOW_${f}_OK AND header MATCHES "GatedKernel{\"[a-z0-9_]+\", \"${lower}\", true}")
    string(APPEND failures "\n  a kernel gated on ${lower} is marked built but glslc rejects ${lower}")
  endif()
endforeach()
string(REGEX MATCHALL "#define TESSERA_GLSL_HAS_[A-Z0-9_]+" defines "${header}")
list(LENGTH defines ndefines)
list(LENGTH NOW_NAMES nprobes)
if(NOT ndefines EQUAL nprobes)
  string(APPEND failures "\n  header has ${ndefines} features, shaders/probes has ${nprobes}")
endif()
# The one feature every Tessera shader uses must be accepted: the probes themselves are sane.
if(NOT NOW_SUBGROUP_ARITHMETIC_OK)
  string(APPEND failures "\n  glslc rejects the subgroup_arithmetic probe that every shader needs: a broken probe?")
endif()
if(failures)
  message(FATAL_ERROR "shader_features.h does not match glslc:${failures}")
endif()
message(STATUS "shader_features.h matches glslc: ${accepted} of ${nprobes} optional features accepted")
