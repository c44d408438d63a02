// A fixed pool for the CPU runtimes: parallel_for splits [0, n) into one contiguous chunk per
// thread (the caller runs chunk 0) and blocks until all are done. Workers are created once at load;
// a call allocates nothing, so the per-token path stays allocation-free.
// Decoding calls parallel_for every few microseconds, far more often than a futex wake-up can serve
// (tens of µs on a loaded VM: 2 threads ran small models several times slower than 1). So both sides
// spin briefly (kSpinRounds pauses, ~30 µs) on atomics before they block on the condition variables:
// while a token is being decoded the workers never sleep; an idle pool still does.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera::cpu {

class ThreadPool {
 public:
  using ChunkFn = void (*)(void* ctx, int chunk, int64_t begin, int64_t end);

  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }
  void parallel_for(int64_t n, ChunkFn fn, void* ctx);

  // Convenience for lambdas (no allocation: the lambda lives on the caller's stack).
  template <class F>
  void run(int64_t n, F&& f) {
    parallel_for(n, [](void* c, int chunk, int64_t b, int64_t e) { (*static_cast<F*>(c))(chunk, b, e); }, &f);
  }

 private:
  void worker(int index);
  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  std::atomic<uint64_t> generation_{0};  // written under mu_, read by spinning workers
  std::atomic<int> pending_{0};          // workers still running the current generation
  std::atomic<bool> stop_{false};
  ChunkFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0;
};

}  // namespace tessera::cpu
