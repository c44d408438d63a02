// Writes MQMTAR samples for the scoring firmware (mqmtar_score.c): exactly the samples `tessera eval
// mqmtar --lengths LENGTH --samples COUNT --seed SEED` scores, as little-endian int32 words:
//   "TSMQ" (0x514D5354), version 1, COUNT, then per sample T, the T input tokens ([BOS] source [SEP]
//   target, without the final EOS), and the 12 target tokens.
//   tessera_mcu_mqmtar_samples OUT.bin COUNT LENGTH SEED
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "tasks/mqmtar.h"

int main(int argc, char** argv) {
  using namespace tessera;
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s OUT.bin COUNT LENGTH SEED\n", argv[0]);
    return 2;
  }
  const int count = std::atoi(argv[2]), length = std::atoi(argv[3]);
  const uint64_t seed = std::strtoull(argv[4], nullptr, 10);
  if (count <= 0 || length <= 0) {
    std::fprintf(stderr, "error: COUNT and LENGTH must be > 0\n");
    return 2;
  }
  tasks::Mqmtar task(tasks::mqmtar_eval_seed(seed, length));
  std::vector<int32_t> words = {0x514D5354, 1, count};
  for (int i = 0; i < count; ++i) {
    auto s = task.sample(length);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.status().message().c_str());
      return 1;
    }
    std::vector<int32_t> x = s->wrapped();
    x.pop_back();  // the model reads all but EOS
    words.push_back(int32_t(x.size()));
    words.insert(words.end(), x.begin(), x.end());
    words.insert(words.end(), s->target.begin(), s->target.end());
  }
  Status st = write_file_atomically(argv[1], std::as_bytes(std::span(words)));
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 1;
  }
  return 0;
}
