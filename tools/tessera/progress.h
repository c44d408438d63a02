// Progress of a long phase on stderr: "<phase> done/total unit  pct  elapsed  ETA". Silent for phases
// shorter than a second (unless every_phase: then each phase prints at least its final line); redraws
// in place on a terminal, prints a line every few seconds otherwise (logs stay short but show the job
// is alive).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace tessera::cli {

class PhaseProgress {
 public:
  explicit PhaseProgress(bool enabled, bool every_phase = false)
      : enabled_(enabled), every_phase_(every_phase), tty_(isatty(fileno(stderr)) != 0) {}
  ~PhaseProgress() { end_line(); }

  void update(const std::string& phase, int64_t done, int64_t total, const char* unit) {
    if (!enabled_ || total <= 0) return;
    const auto now = Clock::now();
    if (phase != phase_) {
      end_line();
      phase_ = phase;
      start_ = now;
      last_ = now - std::chrono::hours(1);
      finished_ = false;
    }
    if (finished_) return;  // the final line once, however often the caller reports the end
    const double elapsed = seconds(now - start_);
    const bool finished = done >= total;
    if (elapsed < 1.0 && !every_phase_) return;
    if (!finished && seconds(now - last_) < (tty_ ? 0.2 : 5.0)) return;
    last_ = now;
    const double eta = done > 0 ? elapsed * double(total - done) / double(done) : 0.0;
    std::fprintf(stderr, "%s%-12s %lld/%lld %s  %3.0f%%  elapsed %s", tty_ ? "\r" : "", phase.c_str(), (long long)done,
                 (long long)total, unit, 100.0 * double(done) / double(total), duration(elapsed).c_str());
    if (!finished) std::fprintf(stderr, "  ETA %s", duration(eta).c_str());
    std::fprintf(stderr, tty_ ? "\033[K" : "\n");
    drawn_ = tty_;
    if (finished) {
      finished_ = true;
      end_line();
    }
    std::fflush(stderr);
  }

  void end_line() {
    if (drawn_) std::fputc('\n', stderr);
    drawn_ = false;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
  static std::string duration(double s) {
    char b[32];
    if (s < 60) std::snprintf(b, sizeof b, "%.0fs", s);
    else std::snprintf(b, sizeof b, "%dm%02ds", int(s) / 60, int(s) % 60);
    return b;
  }
  bool enabled_, every_phase_, tty_, drawn_ = false, finished_ = false;
  std::string phase_;
  Clock::time_point start_, last_;
};

}  // namespace tessera::cli
