// Calibration (see calibrate.h).
#include "quant/calibrate.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <mutex>
#include <random>
#include <sstream>

#include "core/file_io.h"
#include "core/resources.h"
#include "core/hash64.h"
#include "core/printable.h"
#include "tasks/mqmtar.h"
#include "tessera/tokenizer.h"

namespace tessera::quant {

namespace {

// Keeps max |value| of one site and, when a percentile is wanted, its |values|: all of them up to a
// cap, then a deterministic reservoir sample.
class AbsSample {
 public:
  void add(const double* v, int64_t n, bool sample) {
    for (int64_t i = 0; i < n; ++i) {
      const double a = std::fabs(v[i]);
      max_ = std::max(max_, a);
      if (!sample) continue;
      ++seen_;
      if (values_.size() < kCap) {
        values_.push_back(float(a));
      } else {
        const uint64_t j = rng_() % seen_;
        if (j < kCap) values_[j] = float(a);
      }
    }
  }
  double max() const { return max_; }
  void merge_max(const AbsSample& o) { max_ = std::max(max_, o.max_); }
  double percentile(double pct) {
    if (values_.empty()) return 0;
    const size_t k = std::min(values_.size() - 1, size_t(std::ceil(pct / 100.0 * double(values_.size()))) - 1);
    std::nth_element(values_.begin(), values_.begin() + long(k), values_.end());
    return std::min(max_, double(values_[k]));
  }
  // Fraction of the sampled |values| above `clip` (0 when nothing was sampled: min-max clips nothing).
  double clipped(double clip) const {
    if (values_.empty()) return 0;
    int64_t above = 0;
    for (float v : values_) above += double(v) > clip;
    return double(above) / double(values_.size());
  }

 private:
  static constexpr size_t kCap = 1 << 18;
  std::vector<float> values_;
  double max_ = 0;
  uint64_t seen_ = 0;
  std::mt19937_64 rng_{12345};
};

class Recorder : public ActivationObserver {
 public:
  Recorder(int64_t layers, bool percentile) : sites_(size_t(layers)), percentile_(percentile) {}
  void layer_site(int64_t layer, Site site, double* v, int64_t n) override {
    sites_[size_t(layer)][size_t(site)].add(v, n, percentile_ && int8::is_operand_site(site));
  }
  void residual(const double* v, int64_t n) override { residual_.add(v, n, false); }
  void final_norm(double* v, int64_t n) override { final_norm_.add(v, n, percentile_); }
  void logits(const double* v, int64_t n) override { logits_.add(v, n, false); }
  // Min-max only: takes the other recorder's maxima.
  void merge_max(const Recorder& o) {
    for (size_t l = 0; l < sites_.size(); ++l)
      for (size_t s = 0; s < sites_[l].size(); ++s) sites_[l][s].merge_max(o.sites_[l][s]);
    residual_.merge_max(o.residual_);
    final_norm_.merge_max(o.final_norm_);
    logits_.merge_max(o.logits_);
  }

  std::vector<std::array<AbsSample, kSiteCount>> sites_;
  AbsSample residual_, final_norm_, logits_;
  bool percentile_;
};

// The forward pass keeps a key and a value per layer and position (bounded at 16 bytes per channel).
CheckedSize kv_cache_bytes(const HParams& hp, int64_t length) {
  return CheckedSize::of(length) * CheckedSize::of(hp.n_layer) * CheckedSize::of(hp.n_embd) * 16;
}

}  // namespace

Result<ActivationRanges> calibrate(BatchedForward& engine, const std::vector<std::vector<int32_t>>& sequences,
                                   const CalibrationOptions& options,
                                   const std::function<void(int64_t, int64_t)>& progress, int64_t reference_positions,
                                   SearchReference* reference) {
  const FloatModel& folded = engine.model();
  if (sequences.empty()) return invalid_argument("calibration: no token sequences");
  size_t longest = 0;
  for (const auto& seq : sequences) longest = std::max(longest, seq.size());
  TESSERA_RETURN_IF_ERROR(
      check_memory_request(kv_cache_bytes(folded.hp, int64_t(longest)),
                           "calibration: the forward pass's key and value caches for a sequence of " +
                               std::to_string(longest) + " tokens"));
  int64_t total = 0;
  for (size_t s = 0; s < sequences.size(); ++s) {
    for (size_t i = 0; i < sequences[s].size(); ++i) {
      const int32_t tok = sequences[s][i];
      if (tok < 0 || tok >= folded.hp.vocab_size)
        return invalid_argument("calibration: sequence " + std::to_string(s + 1) + ", position " +
                                std::to_string(i + 1) + ": token " + std::to_string(tok) +
                                " is outside the vocabulary [0, " + std::to_string(folded.hp.vocab_size) + ")");
    }
    total += int64_t(sequences[s].size());
  }
  const bool pct = options.method == CalibrationMethod::kPercentile;
  const int64_t V = folded.hp.vocab_size, C = folded.hp.n_embd;
  const int64_t S = int64_t(sequences.size());
  // Positions of each sequence the search keeps: a prefix of the data.
  std::vector<int64_t> keep(size_t(S), 0);
  if (reference)
    for (int64_t s = 0, left = reference_positions - reference->positions; s < S && left > 0; ++s) {
      keep[size_t(s)] = std::min<int64_t>(int64_t(sequences[size_t(s)].size()), left);
      left -= keep[size_t(s)];
    }
  // Min-max ranges do not depend on the order the values arrive in, so the sequences run in parallel,
  // one per thread, each thread with its own recorder (merged below). A percentile samples the values
  // in order: then one sequence at a time, every step split across the threads.
  const bool per_sequence = !pct && S >= engine.threads();
  const int workers = per_sequence ? engine.threads() : 1;
  std::vector<Recorder> recs;
  for (int i = 0; i < workers; ++i) recs.emplace_back(folded.hp.n_layer, pct);
  std::vector<std::vector<float>> logits(static_cast<size_t>(workers));
  std::vector<LayerInputs> inputs(static_cast<size_t>(S));
  std::vector<std::vector<float>> kept_logits(static_cast<size_t>(S));
  std::mutex progress_mu;
  int64_t done = 0;
  auto one = [&](int64_t s, int worker) {
    const int w = std::max(worker, 0);
    const std::vector<int32_t>& seq = sequences[size_t(s)];
    const int64_t k = keep[size_t(s)];
    ForwardRun run;
    run.observer = &recs[size_t(w)];
    run.keep = k > 0 ? &inputs[size_t(s)] : nullptr;
    if (worker < 0) engine.run(seq, run, logits[0]);
    else engine.run_on(worker, seq, run, logits[size_t(w)]);
    if (k > 0) {
      for (auto& point : inputs[size_t(s)]) point.resize(std::min(point.size(), size_t(k * C)));
      kept_logits[size_t(s)].assign(logits[size_t(w)].begin(), logits[size_t(w)].begin() + long(k * V));
    }
    std::lock_guard<std::mutex> lock(progress_mu);
    done += int64_t(seq.size());
    if (progress) progress(done, total);
  };
  if (per_sequence) engine.for_each(S, one);
  else
    for (int64_t s = 0; s < S; ++s) one(s, -1);
  if (reference)
    for (int64_t s = 0; s < S && keep[size_t(s)] > 0; ++s) {
      const int64_t k = keep[size_t(s)];
      const std::vector<int32_t>& seq = sequences[size_t(s)];
      reference->sequences.emplace_back(seq.begin(), seq.begin() + long(k));
      reference->inputs.push_back(std::move(inputs[size_t(s)]));
      const std::vector<float>& l = kept_logits[size_t(s)];
      for (int64_t t = 0; t < k; ++t) {
        const float* row = l.data() + t * V;
        reference->top1.push_back(int32_t(std::max_element(row, row + V) - row));
        for (int64_t v = 0; v < V; ++v) reference->logit_power += double(row[v]) * row[v];
      }
      reference->logits.insert(reference->logits.end(), l.begin(), l.end());
      reference->positions += k;
      std::vector<float>().swap(kept_logits[size_t(s)]);
    }
  Recorder& rec = recs[0];
  for (size_t i = 1; i < recs.size(); ++i) rec.merge_max(recs[i]);
  ActivationRanges r;
  r.tokens = total;
  r.residual = rec.residual_.max();
  r.logits = rec.logits_.max();
  r.final_norm = pct ? rec.final_norm_.percentile(options.percentile) : rec.final_norm_.max();
  r.final_norm_clipped = rec.final_norm_.clipped(r.final_norm);
  r.layer.resize(size_t(folded.hp.n_layer));
  r.clipped.resize(size_t(folded.hp.n_layer));
  for (size_t l = 0; l < r.layer.size(); ++l)
    for (int s = 0; s < kSiteCount; ++s) {
      AbsSample& a = rec.sites_[l][size_t(s)];
      r.layer[l][size_t(s)] = (pct && int8::is_operand_site(Site(s))) ? a.percentile(options.percentile) : a.max();
      r.clipped[l][size_t(s)] = a.clipped(r.layer[l][size_t(s)]);
    }
  return r;
}

Result<std::vector<std::vector<int32_t>>> parse_calibration_sequences(std::istream& in, const std::string& path,
                                                                      int64_t vocab_size) {
  std::vector<std::vector<int32_t>> out;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::istringstream ss(line);
    std::vector<int32_t> seq;
    std::string word;
    while (ss >> word) {
      char* end = nullptr;
      const long long v = std::strtoll(word.c_str(), &end, 10);
      if (end != word.c_str() + word.size())  // also refuses a NUL inside the word
        return invalid_argument(path + ":" + std::to_string(line_no) + ": '" + printable_prefix(word, 40) +
                                "' is not a token id");
      if (v < 0 || v >= vocab_size)
        return invalid_argument(path + ":" + std::to_string(line_no) + ": token " + word +
                                " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
      seq.push_back(int32_t(v));
    }
    if (!seq.empty()) out.push_back(std::move(seq));
  }
  if (out.empty()) return invalid_argument(path + ": no token sequences (expected one sequence per line)");
  return out;
}

Result<CalibrationFile> read_calibration_file(const std::string& path, int64_t vocab_size) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::byte> bytes, read_file(path));  // regular files only
  std::istringstream in(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::vector<int32_t>> out, parse_calibration_sequences(in, path, vocab_size));
  int64_t tokens = 0;
  for (const auto& seq : out) tokens += int64_t(seq.size());
  CalibrationFile file;
  file.source = "file xxh64:" + hash64_hex(hash64(bytes)) + ", " + std::to_string(out.size()) + " sequences, " +
                std::to_string(tokens) + " tokens";
  file.sequences = std::move(out);
  return file;
}

Result<CalibrationFile> read_calibration_text(const std::string& path, const std::vector<std::string>& vocabulary,
                                              int64_t length) {
  if (vocabulary.empty()) return invalid_argument(path + ": the model has no tokenizer vocabulary to encode text with");
  if (length < 1) return invalid_argument(path + ": calibration sequence length must be >= 1");
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::byte> bytes, read_file(path));  // regular files only
  if (bytes.empty()) return invalid_argument(path + ": empty calibration file (expected text or token ids)");
  const std::string s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  auto tokenizer = Tokenizer::from_tokens(vocabulary);
  if (!tokenizer.ok()) return invalid_argument(path + ": " + tokenizer.status().message());
  auto ids = tokenizer->encode(s);
  if (!ids.ok()) return invalid_argument(path + ": cannot tokenize the calibration text: " + ids.status().message());
  CalibrationFile file;
  for (size_t i = 0; i < ids->size(); i += size_t(length))
    file.sequences.emplace_back(ids->begin() + long(i), ids->begin() + long(std::min(ids->size(), i + size_t(length))));
  file.source = "text xxh64:" + hash64_hex(hash64(bytes)) + ", " + std::to_string(ids->size()) +
                " tokens in sequences of " + std::to_string(length);
  return file;
}

Result<CalibrationFile> read_calibration(const std::string& path, CalibrationFormat format,
                                         const std::vector<std::string>& vocabulary, int64_t vocab_size,
                                         int64_t text_length) {
  if (format == CalibrationFormat::kAuto) {
    TESSERA_ASSIGN_OR_RETURN(std::vector<std::byte> bytes, read_file(path));  // regular files only
    std::istringstream in(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    std::string word;
    bool any = false, all_ids = true;
    while (all_ids && in >> word) {
      any = true;
      char* end = nullptr;
      std::strtoll(word.c_str(), &end, 10);
      all_ids = end && *end == '\0' && (std::isdigit((unsigned char)word[0]) || word[0] == '-' || word[0] == '+');
    }
    if (!any) return invalid_argument(path + ": empty calibration file (expected text or token ids)");
    format = all_ids ? CalibrationFormat::kTokens : CalibrationFormat::kText;
  }
  if (format == CalibrationFormat::kTokens) return read_calibration_file(path, vocab_size);
  return read_calibration_text(path, vocabulary, text_length);
}

Result<std::vector<std::vector<int32_t>>> mqmtar_calibration_sequences(int64_t vocab_size, int64_t count,
                                                                       uint64_t seed) {
  if (vocab_size != tasks::kMqmtarVocabSize)
    return invalid_argument("calibration task mqmtar needs a model with vocabulary " +
                            std::to_string(tasks::kMqmtarVocabSize) + ", found " + std::to_string(vocab_size));
  tasks::Mqmtar task(seed);
  std::vector<std::vector<int32_t>> out;
  for (int64_t i = 0; i < count; ++i) {
    auto sample = task.sample(48, 16);
    if (!sample.ok()) return sample.status();
    std::vector<int32_t> seq = sample->wrapped();
    seq.pop_back();  // the model reads all but the last token
    out.push_back(std::move(seq));
  }
  return out;
}

Status check_calibration_size(const HParams& hp, int64_t count, int64_t length) {
  const std::string what = "calibration on " + std::to_string(count) + " sequences of " + std::to_string(length) +
                           " tokens";
  TESSERA_RETURN_IF_ERROR(check_memory_request(CheckedSize::of(count) * CheckedSize::of(length) * 4, what));
  return check_memory_request(kv_cache_bytes(hp, length), what + " (the forward pass's key and value caches)");
}

std::vector<std::vector<int32_t>> random_calibration_sequences(int64_t vocab_size, int64_t count, int64_t length,
                                                               uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int32_t>> out(static_cast<size_t>(count), std::vector<int32_t>(static_cast<size_t>(length)));
  for (auto& s : out)
    for (auto& t : s) t = int32_t(rng() % uint64_t(vocab_size));
  return out;
}

}  // namespace tessera::quant
