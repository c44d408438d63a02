// Helpers shared by the subcommands: token lists, backend options, model loading.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "tessera/tessera.h"

namespace tessera::cli {

// "1 2 3" or "1,2,3" -> ids; an error names the offending item.
Result<std::vector<int32_t>> parse_token_list(const std::string& text);

struct BackendFlags {
  std::string backend = "cpu";
  int threads = 1;
  int vulkan_device = -1;
  std::string vulkan_device_name;
  bool vulkan_validation = false;
  std::string vulkan_profile = "full";
  std::string int8_kernel = "auto";
  void add_to(CLI::App& app, const std::string& default_backend);
  Result<LoadOptions> options() const;
};

// Loads MODEL with the flags; prints "backend: <name>" (and why auto fell back) to stderr.
Result<std::shared_ptr<Model>> load_model(const std::string& path, const BackendFlags& flags, bool announce);

}  // namespace tessera::cli
