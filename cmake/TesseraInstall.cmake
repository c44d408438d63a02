# `cmake --install`: public headers under include/tessera, the libraries, the CLI, the docs and the example
# models (share/tessera/models), plus what a consumer finds them with: the CMake package Tessera
# (lib/cmake/Tessera: imported targets Tessera::tessera, Tessera::int8_core and, when the Vulkan backend is
# built, Tessera::vulkan) and tessera.pc for pkg-config.
include(CMakePackageConfigHelpers)
set(TESSERA_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/Tessera)

set(tessera_export_targets tessera_int8_core)
if(TARGET tessera)
  list(APPEND tessera_export_targets tessera)
  get_target_property(tessera_type tessera TYPE)
  if(tessera_type STREQUAL "STATIC_LIBRARY")
    # A static libtessera leaves its layer libraries to the final link: they are installed with it.
    list(APPEND tessera_export_targets tessera_cpu tessera_vulkan tessera_model tessera_format tessera_ops
                                       tessera_base)
    set(TESSERA_PC_LIBS "-ltessera -ltessera_cpu -ltessera_vulkan -ltessera_model -ltessera_format -ltessera_ops")
    string(APPEND TESSERA_PC_LIBS " -ltessera_int8_core -ltessera_base -lstdc++ -lm -pthread")
    foreach(lib ${CMAKE_DL_LIBS})
      string(APPEND TESSERA_PC_LIBS " -l${lib}")
    endforeach()
  else()
    set(TESSERA_PC_LIBS "-ltessera")
  endif()
  if(TARGET tessera_vulkan_component)
    list(APPEND tessera_export_targets tessera_vulkan_component)
  endif()
  set(TESSERA_HAS_RUNTIME TRUE)
else()
  set(TESSERA_HAS_RUNTIME FALSE)
endif()
if(TESSERA_ENABLE_VULKAN AND TARGET tessera)
  set(TESSERA_HAS_VULKAN TRUE)
else()
  set(TESSERA_HAS_VULKAN FALSE)
endif()

install(TARGETS ${tessera_export_targets} EXPORT TesseraTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT devel
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT TesseraTargets NAMESPACE Tessera:: DESTINATION ${TESSERA_INSTALL_CMAKEDIR} COMPONENT devel)

# Headers: the public API, the generated ones (e.g. version.h), and the integer-only core's own.
if(TESSERA_HAS_RUNTIME)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/tessera ${TESSERA_GENERATED_INCLUDE_DIR}/tessera
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT devel FILES_MATCHING PATTERN "*.h")
endif()
set(tessera_core_include ${CMAKE_INSTALL_INCLUDEDIR}/tessera/int8_core)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/ops/int8 ${PROJECT_SOURCE_DIR}/runtime/ops/fixed
        DESTINATION ${tessera_core_include}/ops COMPONENT devel FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_SOURCE_DIR}/runtime/cpu_int8/int8_model.h ${PROJECT_SOURCE_DIR}/runtime/cpu_int8/int8_forward.h
              ${PROJECT_SOURCE_DIR}/runtime/cpu_int8/int8_state.h
        DESTINATION ${tessera_core_include}/cpu_int8 COMPONENT devel)

if(TARGET tessera_cli)
  install(TARGETS tessera_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
  file(RELATIVE_PATH tessera_bin_to_lib ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}
       ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR})
  set_target_properties(tessera_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${tessera_bin_to_lib}")
endif()
if(TESSERA_HAS_RUNTIME)
  install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT doc)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT doc
          FILES_MATCHING PATTERN "*.md" PATTERN "*.csv")
  # The shipped models (GGUF, float and int8) with their READMEs; the training checkpoints stay in the repo.
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/tessera/models
          COMPONENT models FILES_MATCHING PATTERN "*.gguf" PATTERN "README.md")
endif()

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/TesseraConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/TesseraConfig.cmake INSTALL_DESTINATION ${TESSERA_INSTALL_CMAKEDIR})
# Before 1.0 a minor version may break compatibility.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/TesseraConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/TesseraConfig.cmake ${PROJECT_BINARY_DIR}/TesseraConfigVersion.cmake
        DESTINATION ${TESSERA_INSTALL_CMAKEDIR} COMPONENT devel)

if(TESSERA_HAS_RUNTIME)
  # Relative to the .pc file, so the installed tree can be moved (and --prefix at install time works).
  file(RELATIVE_PATH TESSERA_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/tessera.pc.in ${PROJECT_BINARY_DIR}/tessera.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/tessera.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT devel)
endif()
