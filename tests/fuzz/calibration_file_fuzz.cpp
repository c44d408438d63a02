// libFuzzer target for the quantizer's calibration-file reader (quant/calibrate.cpp, `quantize --calib`):
// any bytes give a Status or non-empty sequences of ids inside the vocabulary, and writing those back as
// text reads back the same sequences.
#include <cstdlib>
#include <sstream>
#include <string>

#include "quant/calibrate.h"

using namespace tessera;

static void require(bool ok) {
  if (!ok) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr int64_t kVocab = 263;  // the MQMTAR vocabulary
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto seqs = quant::parse_calibration_sequences(in, "fuzz.txt", kVocab);
  if (!seqs.ok()) {
    require(!seqs.status().message().empty());
    return 0;
  }
  require(!seqs->empty());
  std::ostringstream text;
  for (const auto& seq : *seqs) {
    require(!seq.empty());
    for (int32_t id : seq) {
      require(id >= 0 && id < kVocab);
      text << id << ' ';
    }
    text << '\n';
  }
  std::istringstream again(text.str());
  auto reread = quant::parse_calibration_sequences(again, "rewritten.txt", kVocab);
  require(reread.ok() && *reread == *seqs);
  return 0;
}
