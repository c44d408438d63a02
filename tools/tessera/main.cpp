#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"tessera: Memory Mosaics with sparse attention on CPUs and GPUs"};
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
