// A layer's persistent-memory parameters in one buffer (ops_pmem.cpp pmem_params), C = pc.C, H = pc.H:
//   pmem_k row scale [C] (I8 weights) | pmem_k bias [C] | pmem_norm weight [C] | pmem_norm bias [C] |
//   decay [H] | beta'^2 [H] | value scale [H] | (key scale, value scale) per slot (I8 slots).
// The first four serve pmem_decode.comp's projection. One binding instead of eight keeps the
// persistent-memory kernels within 8 storage buffers (Mesa V3DV's limit). The includer declares the
// push block (C, H) and `prm`.
float pmem_decay(uint h) { return prm[4u * pc.C + h]; }
float pmem_query_scale(uint h) { return prm[4u * pc.C + pc.H + h]; }
float pmem_value_scale(uint h) { return prm[4u * pc.C + 2u * pc.H + h]; }
float pmem_key_slot_scale(uint slot) { return prm[4u * pc.C + 3u * pc.H + 2u * slot]; }
float pmem_value_slot_scale(uint slot) { return prm[4u * pc.C + 3u * pc.H + 2u * slot + 1u]; }
