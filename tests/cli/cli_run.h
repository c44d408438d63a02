// Runs the `tessera` binary (TESSERA_CLI) with arguments and captures its exit code and output.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace tessera::testing {

struct CliRun {
  int code;
  std::string out;  // stdout + stderr
};

inline CliRun run_cli(const std::string& args) {
  const std::string cmd = std::string(TESSERA_CLI) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace tessera::testing
