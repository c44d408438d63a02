// The exact entmax threshold of the tiled prompt-chunk kernels (attn_prefill_entmax and its
// cooperative-matrix flavour), one row at a time, from the sums a sweep over the row's keys gathers at
// one point t: count n, shifted moments S_k = sum_{y > t} (y - t)^k (k = 1, 2, 3) and min {y > t}.
// y = (alpha - 1) beta^2 (c - m) <= 0 against the exact row maximum m, so f(-1) >= 1 >= f(0) = 0 with
// f(t) = sum_{y > t} (y - t)^R. From a verified left point (S_R >= 1) the closed-form root of the set
// {y > t} is certified exact when it is <= min {y > t} and S_R <= 2, else a Newton step on
// S_R^(1/R) - 1 (stays <= tau*); a rounding overshoot (S_R < 1) steps back to the root of the smaller
// set; a bracket of a few ulps ends it. The includer defines the constant R = 1 / (alpha - 1).

// Root delta of sum (x - delta)^R = 1 over a fixed set with shifted moments (n, a1, a2, a3), as
// attn_entmax_threshold.comp.
float solve_set(float n, float a1, float a2, float a3) {
  if (R == 1u) return (a1 - 1.0) / n;
  if (R == 2u) return (a2 - 1.0) / (a1 + sqrt(max(a1 * a1 - n * (a2 - 1.0), 0.0)));
  float d = 0.0;
  for (uint it = 0u; it < 40u; ++it) {
    float g = a3 - 3.0 * d * a2 + 3.0 * d * d * a1 - n * d * d * d - 1.0;
    float gp = -3.0 * (a2 - 2.0 * d * a1 + n * d * d);
    float nd = gp < 0.0 ? d - g / gp : d;
    if (nd == d) break;
    d = nd;
  }
  return d;
}

// The weight [y - tau]_+^R.
float entmax_weight(float y, float tau) {
  float x = max(y - tau, 0.0);
  return R == 1u ? x : R == 2u ? x * x : x * x * x;
}

// One row's step after a sweep at t: bracket [a, b], next point t, and tau once done.
void threshold_step(float n, float s1, float s2, float s3, float ymin, inout float a, inout float b, inout float t,
                    inout float tau, inout bool done) {
  const float f = R == 1u ? s1 : R == 2u ? s2 : s3;
  const float fd = R == 1u ? n : R == 2u ? s1 : s2;
  const float root = t + solve_set(n, s1, s2, s3);
  if (f >= 1.0) {
    a = t;
    const bool tiny = b - a <= 4.8e-7 * max(abs(a), abs(b));
    const float next = min(t + (f - pow(f, 1.0 - 1.0 / float(R))) / fd, b);
    if ((root <= ymin && f <= 2.0) || tiny || next <= t) {
      tau = root;
      done = true;
    } else {
      t = next;
    }
  } else {
    b = t;
    t = root > a && root < b ? root : 0.5 * (a + b);
  }
}
