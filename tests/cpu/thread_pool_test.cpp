// The CPU runtimes' thread pool (runtime/cpu/thread_pool.h): every index of every call is run exactly once
// by the chunk that owns it, back-to-back calls (the spinning hand-off) and calls after the workers have gone
// to sleep (the condition-variable hand-off) both complete, one thread runs inline, and many threads
// calling one pool at once each get every index of their own calls exactly once.
#include "cpu/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace tessera::cpu {
namespace {

struct Coverage {
  std::vector<std::atomic<int>>* hits;
  std::atomic<int64_t>* chunks_sum;
};

void mark(void* ctx, int chunk, int64_t begin, int64_t end) {
  auto* c = static_cast<Coverage*>(ctx);
  for (int64_t i = begin; i < end; ++i) (*c->hits)[size_t(i)].fetch_add(1);
  c->chunks_sum->fetch_add(chunk);
}

TEST(ThreadPool, EveryIndexOnceAcrossManyBackToBackCalls) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    for (int call = 0; call < 4000; ++call) {
      const int64_t n = 1 + call % 37;
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int64_t> chunks{0};
      Coverage c{&hits, &chunks};
      pool.parallel_for(n, mark, &c);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[size_t(i)].load(), 1) << "threads=" << threads << " call=" << call;
    }
  }
}

TEST(ThreadPool, WakesSleepingWorkers) {
  ThreadPool pool(3);
  for (int call = 0; call < 5; ++call) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // far past the spin: workers block
    std::vector<std::atomic<int>> hits(90);
    std::atomic<int64_t> chunks{0};
    Coverage c{&hits, &chunks};
    pool.parallel_for(90, mark, &c);
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    EXPECT_EQ(chunks.load(), 0 + 1 + 2);  // three chunks of 30, one per thread
  }
}

TEST(ThreadPool, OneThreadRunsInline) {
  ThreadPool pool(1);
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran;
  pool.run(10, [&](int chunk, int64_t b, int64_t e) {
    ran = std::this_thread::get_id();
    EXPECT_EQ(chunk, 0);
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 10);
  });
  EXPECT_EQ(ran, caller);
}

TEST(ThreadPool, ManyCallersAtOnceEachGetEveryIndexOnce) {
  ThreadPool pool(3);
  constexpr int kCallers = 4, kCalls = 3000;
  std::vector<int> failures(kCallers, 0);
  std::vector<std::thread> callers;
  for (int t = 0; t < kCallers; ++t)
    callers.emplace_back([&, t] {
      ThreadPool::DecodingScope decoding;
      for (int call = 0; call < kCalls; ++call) {
        const int64_t n = 2 + (call * 7 + t) % 41;
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<int64_t> chunks{0};
        Coverage c{&hits, &chunks};
        pool.parallel_for(n, mark, &c);
        for (int64_t i = 0; i < n; ++i) failures[size_t(t)] += hits[size_t(i)].load() != 1;
      }
    });
  for (auto& c : callers) c.join();
  for (int t = 0; t < kCallers; ++t) EXPECT_EQ(failures[size_t(t)], 0) << "caller " << t;
  EXPECT_EQ(ThreadPool::decoding_threads(), 0);
}

TEST(ThreadPool, DecodingScopeCountsThreads) {
  EXPECT_EQ(ThreadPool::decoding_threads(), 0);
  {
    ThreadPool::DecodingScope a;
    ThreadPool::DecodingScope b;
    EXPECT_EQ(ThreadPool::decoding_threads(), 2);
  }
  EXPECT_EQ(ThreadPool::decoding_threads(), 0);
  EXPECT_GE(ThreadPool::usable_cpus(), 1);
}

}  // namespace
}  // namespace tessera::cpu
