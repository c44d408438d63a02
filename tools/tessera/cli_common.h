// Helpers shared by the subcommands, so the same thing has the same flag, default and help everywhere
// (docs/cli.md): token lists, --format, --threads, backend options, model loading.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "tessera/tessera.h"

namespace tessera::cli {

// "1 2 3" or "1,2,3" -> ids; an error names the offending item.
Result<std::vector<int32_t>> parse_token_list(const std::string& text);

// --format text|json (default text): every command that prints results.
void add_format_option(CLI::App& app, std::string& format);
// The default of every --threads: the CPUs this process may run on (its affinity mask), at most 256.
int default_threads();
// --threads N (default: default_threads()): CPU threads.
void add_threads_option(CLI::App& app, int& threads);
// --tokens "1 2 3" (token ids); `hidden_alias` (e.g. generate's old --prompt-tokens) keeps working, unlisted.
void add_tokens_option(CLI::App& app, std::string& tokens, const std::string& help,
                       const std::string& hidden_alias = "");
// Checks a --backend value (auto | cpu | vulkan | cpu-int8) while parsing, so a bad one is a usage error.
CLI::Validator backend_validator();

struct BackendFlags {
  std::string backend = "auto";
  int threads = default_threads();
  int vulkan_device = -1;
  std::string vulkan_device_name;
  bool vulkan_validation = false;
  std::string vulkan_profile = "full";
  std::string vulkan_kv_cache = "auto";
  std::string int8_kernel = "auto";
  void add_to(CLI::App& app);
  Result<LoadOptions> options() const;
};

// Loads MODEL with the flags; prints "backend: <name>" (and why auto fell back) to stderr.
Result<std::shared_ptr<Model>> load_model(const std::string& path, const BackendFlags& flags, bool announce);

}  // namespace tessera::cli
