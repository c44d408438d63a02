#include "cpu/thread_pool.h"

#include <algorithm>

namespace tessera::cpu {

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
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
    pending_ = threads_ - 1;
    ++generation_;
  }
  start_cv_.notify_all();
  int64_t b, e;
  chunk_range(n, threads_, 0, &b, &e);
  fn(ctx, 0, b, e);
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return pending_ == 0; });
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    ChunkFn fn;
    void* ctx;
    int64_t n;
    {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      fn = fn_;
      ctx = ctx_;
      n = n_;
    }
    int64_t b, e;
    chunk_range(n, threads_, index, &b, &e);
    if (b < e) fn(ctx, index, b, e);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
}

}  // namespace tessera::cpu
