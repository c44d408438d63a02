#include "cli_common.h"

#include <algorithm>
#include <charconv>
#include <iostream>

#include "cpu/thread_pool.h"

namespace tessera::cli {

Result<std::vector<int32_t>> parse_token_list(const std::string& text) {
  std::vector<int32_t> out;
  size_t i = 0, index = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',' || text[i] == '\t' || text[i] == '\n')) ++i;
    if (i >= text.size()) break;
    size_t j = i;
    while (j < text.size() && !(text[j] == ' ' || text[j] == ',' || text[j] == '\t' || text[j] == '\n')) ++j;
    int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data() + i, text.data() + j, v);
    if (ec != std::errc() || p != text.data() + j || v < INT32_MIN || v > INT32_MAX)
      return invalid_argument("token list item " + std::to_string(index) + " '" + text.substr(i, j - i) +
                              "' is not an integer token id");
    out.push_back(int32_t(v));
    ++index;
    i = j;
  }
  if (out.empty()) return invalid_argument("the token list is empty");
  return out;
}

void add_format_option(CLI::App& app, std::string& format) {
  app.add_option("--format", format, "output: text | json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
}

int default_threads() { return std::clamp(cpu::ThreadPool::usable_cpus(), 1, 256); }

void add_threads_option(CLI::App& app, int& threads) {
  app.add_option("--threads", threads, "CPU threads (1..256; default: the CPUs this process may use)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
}

void add_tokens_option(CLI::App& app, std::string& tokens, const std::string& help, const std::string& hidden_alias) {
  CLI::Option* main = app.add_option("--tokens", tokens, help);
  if (hidden_alias.empty()) return;
  // A callback rather than excludes(), which would print the hidden name in --tokens' help line.
  app.add_option_function<std::string>(
         hidden_alias,
         [&tokens, main, hidden_alias](const std::string& value) {
           if (main->count() > 0) throw CLI::ExcludesError(hidden_alias, "--tokens");
           tokens = value;
         },
         help)
      ->group("");
}

CLI::Validator backend_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        return parse_backend_kind(value).ok() ? std::string()
                                              : "unknown backend '" + value + "' (auto, cpu, vulkan, cpu-int8)";
      },
      "BACKEND");
}

void BackendFlags::add_to(CLI::App& app) {
  app.add_option("--backend", backend, "auto (Vulkan if usable, else cpu) | cpu | vulkan | cpu-int8")
      ->check(backend_validator())
      ->capture_default_str();
  add_threads_option(app, threads);
  app.add_option("--vulkan-device", vulkan_device, "Vulkan device index (-1: best)")->capture_default_str();
  app.add_option("--vulkan-device-name", vulkan_device_name, "Vulkan device name (substring)");
  app.add_flag("--vulkan-validation", vulkan_validation, "enable the Khronos validation layer");
  app.add_option("--vulkan-profile", vulkan_profile,
                 "plan within a device-limits profile: full | android-baseline-2022 | raspberry-pi (docs/vulkan.md)")
      ->capture_default_str();
  app.add_option("--vulkan-kv-cache", vulkan_kv_cache,
                 "key/value cache elements: auto (f16 where the device has 16-bit storage) | f16 | f32")
      ->check(CLI::IsMember({"auto", "f16", "f32"}))
      ->capture_default_str();
  app.add_option("--int8-kernel", int8_kernel,
                 "cpu-int8 kernel table (instruction set): auto | portable | avx2 | avx512-vnni | neon-dot")
      ->check(CLI::IsMember({"auto", "portable", "avx2", "avx512-vnni", "neon-dot"}))
      ->capture_default_str();
}

Result<LoadOptions> BackendFlags::options() const {
  LoadOptions o;
  TESSERA_ASSIGN_OR_RETURN(o.backend, parse_backend_kind(backend));
  o.threads = threads;
  o.vulkan_device_index = vulkan_device;
  o.vulkan_device_name = vulkan_device_name;
  o.vulkan_validation = vulkan_validation;
  o.vulkan_profile = vulkan_profile;
  o.vulkan_kv_cache = vulkan_kv_cache;
  if (int8_kernel == "portable") o.int8_kernel = Int8Kernel::kPortable;
  else if (int8_kernel == "avx2") o.int8_kernel = Int8Kernel::kAvx2;
  else if (int8_kernel == "avx512-vnni") o.int8_kernel = Int8Kernel::kAvx512Vnni;
  else if (int8_kernel == "neon-dot") o.int8_kernel = Int8Kernel::kNeonDot;
  return o;
}

Result<std::shared_ptr<Model>> load_model(const std::string& path, const BackendFlags& flags, bool announce) {
  TESSERA_ASSIGN_OR_RETURN(LoadOptions o, flags.options());
  TESSERA_ASSIGN_OR_RETURN(auto model, Model::load(path, o));
  if (announce) {
    std::cerr << "backend: " << model->info().backend_name << "\n";
    if (!model->info().fallback_reason.empty())
      std::cerr << "  (Vulkan not used: " << model->info().fallback_reason << ")\n";
  }
  return model;
}

}  // namespace tessera::cli
