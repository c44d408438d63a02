// Runs the `tessera` binary (TESSERA_CLI) with arguments and captures its exit code and output.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace tessera::testing {

struct CliRun {
  int code;
  std::string out;  // stdout + stderr (run_cli); stdout only (run_cli_split)
  std::string err;  // stderr (run_cli_split only)
};

inline CliRun run_cli_command(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, {}};
}

inline CliRun run_cli(const std::string& args) {
  return run_cli_command(std::string(TESSERA_CLI) + " " + args + " 2>&1");
}

// stdout and stderr apart: results must be on stdout, messages on stderr.
inline CliRun run_cli_split(const std::string& args) {
  char err_path[] = "/tmp/tessera-cli-stderr-XXXXXX";
  const int fd = mkstemp(err_path);
  if (fd < 0) return {-1, "mkstemp failed", {}};
  close(fd);
  CliRun r = run_cli_command(std::string(TESSERA_CLI) + " " + args + " 2>" + err_path);
  std::ifstream in(err_path);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  std::remove(err_path);
  return r;
}

}  // namespace tessera::testing
