#include "cpu/thread_pool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace tessera::cpu {

namespace {

constexpr int kSpinRounds = 1 << 12;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

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

static void chunk_range(int64_t n, int threads, int chunk, int64_t* b, int64_t* e) {
  const int64_t per = (n + threads - 1) / threads;
  *b = std::min(n, per * chunk);
  *e = std::min(n, *b + per);
}

void ThreadPool::parallel_for(int64_t n, ChunkFn fn, void* ctx) {
  if (threads_ == 1 || n < 2) {
    fn(ctx, 0, 0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = fn;
    ctx_ = ctx;
    n_ = n;
    pending_.store(threads_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);  // publishes fn_, ctx_, n_ to spinning workers
  }
  start_cv_.notify_all();
  int64_t b, e;
  chunk_range(n, threads_, 0, &b, &e);
  fn(ctx, 0, b, e);
  for (int i = 0; i < kSpinRounds; ++i) {
    if (pending_.load(std::memory_order_acquire) == 0) return;
    cpu_relax();
  }
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    ChunkFn fn;
    void* ctx;
    int64_t n;
    bool ready = false;
    for (int i = 0; i < kSpinRounds && !ready; ++i) {
      ready = stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
      if (!ready) cpu_relax();
    }
    if (!ready) {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
    }
    if (stop_.load(std::memory_order_acquire)) return;
    // fn_, ctx_, n_ were written before the generation's release; the next generation cannot start before
    // this worker has finished (pending_), so reading them without the lock is safe.
    seen = generation_.load(std::memory_order_acquire);
    fn = fn_;
    ctx = ctx_;
    n = n_;
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
