// Shared by the entmax passes (attn_entmax*.comp): the exact threshold of a sorted prefix, the
// weight [y - tau]_+^r, and the per-(row, head) state record of the split entmax passes.
// y = (alpha - 1) beta^2 (c - max c) <= 0 (max y = 0), r = 1/(alpha - 1); tau is in [-1, 0).

float cbrt_pos(float v) { return v > 0.0 ? pow(v, 1.0 / 3.0) : 0.0; }

// tau of the prefix of size rho with moments S1..S3 of its y values, for r = 1, 2, 3 (spec entmax.md).
float prefix_tau(uint r, float rho, float s1, float s2, float s3) {
  if (r == 1u) return (s1 - 1.0) / rho;
  float m1 = s1 / rho;
  if (r == 2u) {
    float ss = max(s2 - s1 * m1, 0.0);
    return m1 - sqrt(max(0.0, (1.0 - ss) / rho));
  }
  float v = max(s2 - rho * m1 * m1, 0.0);
  float w = s3 - 3.0 * m1 * s2 + 2.0 * rho * m1 * m1 * m1;
  float p = 3.0 * v / rho, q = (w - 1.0) / rho;
  if (p == 0.0 && q == 0.0) return m1;
  float a = cbrt_pos(abs(q) * 0.5 + sqrt(q * q * 0.25 + p * p * p / 27.0));
  float u = -sign(q) * (a - p / (3.0 * a));
  return m1 - u;
}

float weight_of(float y, float tau, uint r, float inv_am1) {
  float t = max(y - tau, 0.0);
  if (r == 1u) return t;
  if (r == 2u) return t * t;
  if (r == 3u) return t * t * t;
  return t > 0.0 ? pow(t, inv_am1) : 0.0;
}

// State of one (row, head) in the split passes (16 uints; floats stored as bits):
#define ES_WORDS 16u
#define ES_TICKET 0u   // workgroups of the apply pass that finished (the last one resets it)
#define ES_STATUS 1u   // 0 = iterate, 1 = tau final, 2 = no visible key
#define ES_ITER 2u     // threshold steps taken (diagnostics)
#define ES_COUNT 3u    // candidates y > -1
#define ES_MAX 4u      // max c of the row
#define ES_TAU 9u
#define ES_IN_SHARED 10u  // 1 when every candidate fitted shared memory from the first step (diagnostics)
