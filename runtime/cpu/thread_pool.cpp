#include "cpu/thread_pool.h"

#include <algorithm>

#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace tessera::cpu {

namespace {

constexpr int kSpinRounds = 1 << 12;

std::atomic<int> g_decoding_threads{0};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

int count_usable_cpus() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
#endif
  return std::max(1, int(std::thread::hardware_concurrency()));
}

void chunk_range(int64_t n, int threads, int chunk, int64_t* b, int64_t* e) {
  const int64_t per = (n + threads - 1) / threads;
  *b = std::min(n, per * chunk);
  *e = std::min(n, *b + per);
}

}  // namespace

ThreadPool::DecodingScope::DecodingScope() { g_decoding_threads.fetch_add(1, std::memory_order_relaxed); }
ThreadPool::DecodingScope::~DecodingScope() { g_decoding_threads.fetch_sub(1, std::memory_order_relaxed); }
int ThreadPool::decoding_threads() { return g_decoding_threads.load(std::memory_order_relaxed); }

int ThreadPool::usable_cpus() {
  static const int cpus = count_usable_cpus();
  return cpus;
}

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true, std::memory_order_release);
  }
  start_cv_.notify_all();
  for (auto& w : workers_) w.join();
}

bool ThreadPool::may_spin() const {
  // The caller is one of the decoding threads (or a direct user outside any session: count it too).
  const int others = std::max(decoding_threads(), 1) - 1;
  return others + threads_ <= usable_cpus();
}

void ThreadPool::parallel_for(int64_t n, ChunkFn fn, void* ctx) {
  if (threads_ == 1 || n < 2) {
    fn(ctx, 0, 0, n);
    return;
  }
  std::unique_lock<std::mutex> caller(caller_mu_, std::try_to_lock);
  if (!caller.owns_lock()) {  // another session has the workers: do the work here rather than wait
    fn(ctx, 0, 0, n);
    return;
  }
  const bool spin = may_spin();
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = fn;
    ctx_ = ctx;
    n_ = n;
    spin_.store(spin, std::memory_order_relaxed);
    pending_.store(threads_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);  // publishes fn_, ctx_, n_ to spinning workers
  }
  start_cv_.notify_all();
  int64_t b, e;
  chunk_range(n, threads_, 0, &b, &e);
  fn(ctx, 0, b, e);
  if (spin) {
    for (int i = 0; i < kSpinRounds; ++i) {
      if (pending_.load(std::memory_order_acquire) == 0) return;
      cpu_relax();
    }
  }
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    bool ready = false;
    if (spin_.load(std::memory_order_relaxed)) {
      for (int i = 0; i < kSpinRounds && !ready; ++i) {
        ready = stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
        if (!ready) cpu_relax();
      }
    }
    if (!ready) {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
    }
    if (stop_.load(std::memory_order_acquire)) return;
    // fn_, ctx_, n_ were written before the generation's release; the next generation cannot start before
    // this worker has finished (pending_), so reading them without the lock is safe.
    seen = generation_.load(std::memory_order_acquire);
    const ChunkFn fn = fn_;
    void* const ctx = ctx_;
    const int64_t n = n_;
    int64_t b, e;
    chunk_range(n, threads_, index, &b, &e);
    if (b < e) fn(ctx, index, b, e);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu_);  // the caller checks pending_ under mu_: no lost wake-up
      done_cv_.notify_one();
    }
  }
}

}  // namespace tessera::cpu
