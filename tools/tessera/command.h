// CLI subcommands register themselves: each cmd_<name>.cpp defines one static Registration.
// main.cpp builds the CLI11 app from the registry, so adding a command touches one new file.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace tessera::cli {

// `setup` adds the subcommand's options to `sub` and returns the action run after parsing;
// the action returns the process exit code.
using Action = std::function<int()>;
using Setup = std::function<Action(CLI::App& sub)>;

struct Command {
  std::string name;
  std::string description;
  Setup setup;
  int order;  // position in --help
};

std::vector<Command>& registry();

struct Registration {
  Registration(std::string name, std::string description, Setup setup, int order = 100) {
    registry().push_back({std::move(name), std::move(description), std::move(setup), order});
  }
};

// Exit codes, the same for every subcommand (docs/cli.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitRuntimeError = 1,  // the command line was fine but the work failed: a file, a model, a device
  kExitUsageError = 2,    // the command line itself is wrong: unknown command/flag, missing or malformed value
};

// Print "tessera <command>: error: <message>" to stderr and return kExitRuntimeError / kExitUsageError.
int fail(const std::string& command, const std::string& message);
int usage_error(const std::string& command, const std::string& message);

}  // namespace tessera::cli
