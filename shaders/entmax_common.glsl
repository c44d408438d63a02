// Shared by the entmax passes (attn_entmax*.comp): the weight [y - tau]_+^r and the per-(row, head)
// state record of the split entmax passes.
// y = (alpha - 1) beta^2 (c - max c) <= 0 (max y = 0), r = 1/(alpha - 1); tau is in [-1, 0).

float weight_of(float y, float tau, uint r, float inv_am1) {
  float t = max(y - tau, 0.0);
  if (r == 1u) return t;
  if (r == 2u) return t * t;
  if (r == 3u) return t * t * t;
  return t > 0.0 ? pow(t, inv_am1) : 0.0;
}

// State of one (row, head) in the split passes (16 uints; floats stored as bits):
#define ES_WORDS 16u
#define ES_TICKET 0u   // workgroups of the values pass that finished (the last one resets it)
#define ES_STATUS 1u   // 0 = iterate, 1 = tau final, 2 = no visible key
#define ES_ITER 2u     // threshold steps taken (diagnostics)
#define ES_COUNT 3u    // candidates y > -1
#define ES_MAX 4u      // max c of the row
#define ES_SUPPORT 5u  // keys in the support (y > tau): the threshold pass's compacted index list
#define ES_TAU 9u
#define ES_IN_SHARED 10u  // 1 when every candidate fitted shared memory from the first step (diagnostics)
#define ES_NORM 11u    // 1 / sum of the stored weights (the values pass; diagnostics and tests)
