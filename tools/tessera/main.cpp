// `tessera`: thin CLI over libtessera. Subcommands live in cmd_<name>.cpp (see command.h).
#include <algorithm>
#include <iostream>
#include <map>
#include <new>

#include "command.h"

namespace tessera::cli {

std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

int fail(const std::string& command, const std::string& message) {
  std::cerr << "tessera " << command << ": error: " << message << "\n";
  return 1;
}

}  // namespace tessera::cli

int main(int argc, char** argv) {
  using namespace tessera::cli;
  CLI::App app{"tessera: Memory Mosaics with sparse (entmax-family) attention on CPUs and Vulkan GPUs"};
  app.require_subcommand(1);
  auto commands = registry();
  std::sort(commands.begin(), commands.end(),
            [](const Command& a, const Command& b) { return a.order != b.order ? a.order < b.order : a.name < b.name; });
  std::map<CLI::App*, Action> actions;
  for (auto& c : commands) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    actions[sub] = c.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
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
  return 2;
}
