// A fixed pool for the CPU runtimes, one per loaded model and shared by all of its sessions:
// parallel_for splits [0, n) into one contiguous chunk per thread (the caller runs chunk 0) and blocks
// until all are done. Workers are created once at load; a call allocates nothing, so the per-token path
// stays allocation-free.
//
// Any number of threads may call parallel_for at once. One caller at a time has the workers; a caller
// that finds them taken runs its whole range itself, as chunk 0, instead of waiting, so sessions never
// queue behind one another and each thread's scratch (indexed by chunk) stays its own. Results never
// depend on which thread runs a chunk.
//
// Decoding calls parallel_for every few microseconds, far more often than a futex wake-up can serve
// (tens of µs on a loaded VM), so both sides may spin briefly (~30 µs) on atomics before they block.
// Spinning only pays while every spinning thread has a core: it is allowed only while the threads that
// are decoding in the whole process (DecodingScope) plus this pool's workers fit on the CPUs this process
// may use. Otherwise the hand-off blocks at once and an idle worker sleeps.
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
  // Thread-safe; see the file comment.
  void parallel_for(int64_t n, ChunkFn fn, void* ctx);

  // Convenience for lambdas (no allocation: the lambda lives on the caller's stack).
  template <class F>
  void run(int64_t n, F&& f) {
    parallel_for(
        n, [](void* c, int chunk, int64_t b, int64_t e) { (*static_cast<F*>(c))(chunk, b, e); }, &f);
  }

  // Counts the calling thread as decoding while it lives (a session's forward pass, whichever backend,
  // pool or not): the process-wide count that decides whether pools may spin.
  class DecodingScope {
   public:
    DecodingScope();
    ~DecodingScope();
    DecodingScope(const DecodingScope&) = delete;
    DecodingScope& operator=(const DecodingScope&) = delete;
  };
  static int decoding_threads();  // for tests and benchmarks
  static int usable_cpus();       // CPUs this process may run on (its affinity mask)

 private:
  void worker(int index);
  bool may_spin() const;
  int threads_;
  std::vector<std::thread> workers_;
  std::mutex caller_mu_;  // held by the caller that has the workers
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  std::atomic<uint64_t> generation_{0};  // written under mu_, read by spinning workers
  std::atomic<int> pending_{0};          // workers still running the current generation
  std::atomic<bool> spin_{false};        // whether workers may spin for the next generation
  std::atomic<bool> stop_{false};
  ChunkFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0;
};

}  // namespace tessera::cpu
