// `tessera`: thin CLI over libtessera. Subcommands live in cmd_<name>.cpp (see command.h).
// Every path out of main returns one of the documented exit codes (command.h, docs/cli.md).
#include <algorithm>
#include <exception>
#include <iostream>
#include <map>
#include <new>

#include "command.h"
#include "tessera/version.h"

namespace tessera::cli {

std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

int fail(const std::string& command, const std::string& message) {
  std::cerr << "tessera " << command << ": error: " << message << "\n";
  return kExitRuntimeError;
}

int usage_error(const std::string& command, const std::string& message) {
  std::cerr << "tessera" << (command.empty() ? "" : " " + command) << ": error: " << message << "\n";
  return kExitUsageError;
}

namespace {

std::string command_list(const std::vector<Command>& commands) {
  std::string names;
  for (const Command& c : commands) names += (names.empty() ? "" : ", ") + c.name;
  return names;
}

int run(int argc, char** argv) {
  CLI::App app{"tessera: Memory Mosaics with sparse (entmax-family) attention on CPUs and Vulkan GPUs"};
  app.set_version_flag("--version", std::string("tessera ") + TESSERA_VERSION_STRING, "print the version and exit");
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 runtime error, 2 usage error. Run 'tessera <command> --help' for its options.");
  auto commands = registry();
  std::sort(commands.begin(), commands.end(), [](const Command& a, const Command& b) {
    return a.order != b.order ? a.order < b.order : a.name < b.name;
  });
  // The top level has only flags, so the first word that is not one names the command.
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.starts_with("-")) continue;
    if (std::none_of(commands.begin(), commands.end(), [&](const Command& c) { return c.name == word; }))
      return usage_error("", "unknown command '" + word + "' (commands: " + command_list(commands) + ")");
    break;
  }
  std::map<CLI::App*, Action> actions;
  for (auto& c : commands) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    actions[sub] = c.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: printed on stdout
    std::string command;
    for (auto& [sub, action] : actions)
      if (sub->parsed()) command = sub->get_name();
    if (command.empty() && argc < 2)
      return usage_error("", "no command given (commands: " + command_list(commands) + "); see tessera --help");
    usage_error(command, e.what());
    std::cerr << "run 'tessera " << (command.empty() ? "" : command + " ") << "--help' for the options\n";
    return kExitUsageError;
  }
  for (auto& [sub, action] : actions) {
    if (!sub->parsed()) continue;
    try {  // the library returns Status; this catches what the CLI's own code could throw
      return action();
    } catch (const std::bad_alloc&) {
      return fail(sub->get_name(), "out of memory");
    } catch (const std::exception& e) {
      return fail(sub->get_name(), std::string("unexpected exception: ") + e.what());
    }
  }
  return usage_error("", "no command given (commands: " + command_list(commands) + ")");
}

}  // namespace
}  // namespace tessera::cli

int main(int argc, char** argv) {
  // No exception may end the CLI: the library reports errors as Status, so one here is a bug or an allocation
  // failure, reported like any other runtime error.
  try {
    return tessera::cli::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "tessera: error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "tessera: error: unexpected exception\n";
  }
  return tessera::cli::kExitRuntimeError;
}
