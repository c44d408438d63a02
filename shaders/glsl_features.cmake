# Probing optional GLSL extensions with the glslc this build uses (Debian bookworm's glslc
# rejects GL_EXT_integer_dot_product and GL_KHR_cooperative_matrix). One probe = one tiny shader in
# shaders/probes/<feature>.comp that uses the extension for real (a builtin or type, not only the
# #extension line: some glslang versions accept the line but lack the functions). Its header names the
# SPIR-V environment (// target-env:) and the extension (// extension:).
# Included by shaders/CMakeLists.txt at configure time and by tests/shaders/check_glsl_features.cmake
# (CTest, script mode), which re-runs every probe and compares with the generated header.

# tessera_probe_glsl_features(<glslc> <probe dir> <scratch dir> <out prefix>) sets, in the caller:
#   <prefix>_NAMES                       feature names (file stems, sorted)
#   <prefix>_<NAME>_OK                   1 when glslc compiled the probe, else 0
#   <prefix>_<NAME>_EXTENSION            the GLSL extension it probes
#   <prefix>_<NAME>_ERROR                glslc's first error line when it failed
function(tessera_probe_glsl_features glslc probe_dir scratch prefix)
  file(GLOB probes ${probe_dir}/*.comp)
  list(SORT probes)
  file(MAKE_DIRECTORY ${scratch})
  set(names)
  foreach(p ${probes})
    get_filename_component(name ${p} NAME_WE)
    file(STRINGS ${p} env_line REGEX "^// target-env: ")
    file(STRINGS ${p} ext_line REGEX "^// extension: ")
    string(REPLACE "// target-env: " "" env "${env_line}")
    string(REPLACE "// extension: " "" ext "${ext_line}")
    if(env STREQUAL "" OR ext STREQUAL "")
      message(FATAL_ERROR "${p}: needs '// target-env:' and '// extension:' header lines")
    endif()
    execute_process(
      COMMAND ${glslc} --target-env=${env} -O -Werror -o ${scratch}/${name}.spv ${p}
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    string(TOUPPER ${name} upper)
    list(APPEND names ${upper})
    set(${prefix}_${upper}_EXTENSION ${ext} PARENT_SCOPE)
    if(rc EQUAL 0)
      set(${prefix}_${upper}_OK 1 PARENT_SCOPE)
      set(${prefix}_${upper}_ERROR "" PARENT_SCOPE)
    else()
      set(${prefix}_${upper}_OK 0 PARENT_SCOPE)
      string(REGEX MATCH "[^\n]*error[^\n]*" first "${err}")
      set(${prefix}_${upper}_ERROR "${first}" PARENT_SCOPE)
    endif()
  endforeach()
  set(${prefix}_NAMES ${names} PARENT_SCOPE)
endfunction()
