# Bare-metal Cortex-M55 with Helium (MVE) (Arm's Corstone-300 FPGA image, mps3-an547; QEMU -machine
# mps3-an547) with Debian's gcc-arm-none-eabi. MVE needs the FP register file, so hard-float ABI; the
# reset handler enables CP10/CP11. Configure with -DTESSERA_INT8_CORE_ONLY=ON (examples/mcu/README.md).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m55)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(TESSERA_MCU_BOARD mps3-an547)
set(TESSERA_MCU_CPU_FLAGS -mcpu=cortex-m55 -mthumb -mfloat-abi=hard)
string(JOIN " " cpu_flags ${TESSERA_MCU_CPU_FLAGS})
set(CMAKE_C_FLAGS_INIT "${cpu_flags} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${cpu_flags} -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti -fno-threadsafe-statics")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${cpu_flags} --specs=nano.specs --specs=nosys.specs -nostartfiles -Wl,--gc-sections")
