// The Vulkan test model in the reference forward's terms: canonical tensor names -> float64 values.
#include "model_oracle.h"

#include <string>

#include "support/reference_forward.h"

namespace tessera::vk::test {
namespace {

void put_matrix(testing::RefModel& r, const std::string& stem, const RandomModel::Mat& m) {
  r.t[stem + ".weight"] = m.w;
  if (!m.b.empty()) r.t[stem + ".bias"] = m.b;
}

testing::RefModel reference_model(const RandomModel& m) {
  testing::RefModel r;
  r.hp = m.view.hp;
  r.t["token_embd.weight"] = m.embd.w;  // tied head: reference_logits uses the embedding
  r.t["output_norm.weight"] = m.ln_out;
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const RandomModel::Layer& L = m.layers[l];
    const std::string p = "blk." + std::to_string(l) + ".";
    r.t[p + "attn_norm.weight"] = L.ln1;
    r.t[p + "pmem_norm.weight"] = L.ln2;
    if (!L.ln1b.empty()) r.t[p + "attn_norm.bias"] = L.ln1b;
    if (!L.ln2b.empty()) r.t[p + "pmem_norm.bias"] = L.ln2b;
    put_matrix(r, p + "attn_k", L.k);
    put_matrix(r, p + "attn_v", L.v);
    put_matrix(r, p + "attn_output", L.o);
    put_matrix(r, p + "pmem_k", L.pk);
    put_matrix(r, p + "pmem_output", L.po);
    r.t[p + "attn_key_decay"] = L.decay;
    r.t[p + "attn_key_scale"] = L.beta;
    r.t[p + "attn_value_scale"] = L.vscale;
    r.t[p + "attn_value_mix"] = L.mix;
    r.t[p + "pmem_key_decay"] = L.pdecay;
    r.t[p + "pmem_query_scale"] = L.pqscale;
    r.t[p + "pmem_value_scale"] = L.pvscale;
    r.t[p + "pmem_mem_k"] = L.memk;
    r.t[p + "pmem_mem_v"] = L.memv;
  }
  return r;
}

}  // namespace

std::vector<double> oracle_forward(const RandomModel& m, const std::vector<int32_t>& tokens) {
  std::vector<double> logits;
  for (const std::vector<double>& row : testing::reference_logits(reference_model(m), tokens))
    logits.insert(logits.end(), row.begin(), row.end());
  return logits;
}

}  // namespace tessera::vk::test
