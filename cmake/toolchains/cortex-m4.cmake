# Bare-metal Cortex-M4 (Arm's mps2-an386 board; QEMU -machine mps2-an386) with Debian's gcc-arm-none-eabi:
# soft float (the integer-only core needs no FPU, and the no-float check relies on float helpers showing).
# Configure with -DTESSERA_INT8_CORE_ONLY=ON (examples/mcu/README.md).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m4)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(TESSERA_MCU_BOARD mps2-an386)
set(TESSERA_MCU_CPU_FLAGS -mcpu=cortex-m4 -mthumb -mfloat-abi=soft)
string(JOIN " " cpu_flags ${TESSERA_MCU_CPU_FLAGS})
set(CMAKE_C_FLAGS_INIT "${cpu_flags} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${cpu_flags} -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti -fno-threadsafe-statics")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${cpu_flags} --specs=nano.specs --specs=nosys.specs -nostartfiles -Wl,--gc-sections")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(TESSERA_INT8_CORE_ONLY ON CACHE BOOL "Build only the integer-only core, e.g. with a cross or bare-metal toolchain")
