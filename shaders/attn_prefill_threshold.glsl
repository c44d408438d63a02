// The exact entmax threshold of the tiled prompt-chunk kernels (attn_prefill_entmax and its
// cooperative-matrix flavour), one row at a time, from the sums a sweep over the row's keys gathers at
// one point t: count n, shifted moments S_k = sum_{y > t} (y - t)^k (k = 1, 2, 3) and min {y > t}.
// y = (alpha - 1) beta^2 (c - m) <= 0 against the exact row maximum m, so f(-1) >= 1 >= f(0) = 0 with
// f(t) = sum_{y > t} (y - t)^R. From a verified left point (S_R >= 1) the closed-form root of the set
// {y > t} is certified exact when it is <= min {y > t} and S_R <= 2, else a Newton step on
// S_R^(1/R) - 1 (stays <= tau*); a rounding overshoot (S_R < 1) steps back to the root of the smaller
// set; a bracket of a few ulps ends it. The includer defines the constants R = 1 / (alpha - 1) and POINTS.

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

// A sweep evaluates POINTS points per row at once (ascending, within the bracket): the first one the
// Newton step from the best verified left point (or, after an overshoot, the root of the smaller set),
// the others spread above it towards that left point's set root (which lies near tau when the set is
// nearly the support) or towards b. The largest point with S_R >= 1 becomes the left point and is the
// one certified, so more points take fewer sweeps (fewer recomputed cosines) for POINTS times the sums.
// POINTS = 1 is the one-point iteration. The first sweep spreads its points over [-1, 0).
void first_points(out float pts[POINTS]) {
  for (uint i = 0u; i < POINTS; ++i) pts[i] = -1.0 + float(i) / float(POINTS);
}

void clear_sums(out float n[POINTS], out float s1[POINTS], out float s2[POINTS], out float s3[POINTS],
                out float ymin[POINTS]) {
  for (uint i = 0u; i < POINTS; ++i) {
    n[i] = s1[i] = s2[i] = s3[i] = 0.0;
    ymin[i] = 1.0;
  }
}

// Adds key y to the sums of every point below it.
void gather(float y, float pts[POINTS], inout float n[POINTS], inout float s1[POINTS], inout float s2[POINTS],
            inout float s3[POINTS], inout float ymin[POINTS]) {
  [[unroll]] for (uint i = 0u; i < POINTS; ++i) {
    if (y > pts[i]) {
      const float x = y - pts[i];
      n[i] += 1.0;
      s1[i] += x;
      s2[i] += x * x;
      s3[i] += x * x * x;
      ymin[i] = min(ymin[i], y);
    }
  }
}

// One row's step after a sweep: bracket [a, b], the next sweep's points, and tau once done.
void threshold_step(float n[POINTS], float s1[POINTS], float s2[POINTS], float s3[POINTS], float ymin[POINTS],
                    inout float pts[POINTS], inout float a, inout float b, inout float tau, inout bool done) {
  // The largest point with S_R >= 1 (its sums kept for the step), and b lowered to the smallest without.
  bool left_found = false;
  float n_l = 0.0, s1_l = 0.0, s2_l = 0.0, s3_l = 0.0, ymin_l = 0.0;
  [[unroll]] for (uint i = 0u; i < POINTS; ++i) {
    const float f = R == 1u ? s1[i] : R == 2u ? s2[i] : s3[i];
    if (f >= 1.0) {
      if (pts[i] >= a) {
        a = pts[i];
        left_found = true;
        n_l = n[i];
        s1_l = s1[i];
        s2_l = s2[i];
        s3_l = s3[i];
        ymin_l = ymin[i];
      }
    } else {
      b = min(b, pts[i]);
    }
  }
  float base, hi;
  if (left_found) {
    const float t = a, f = R == 1u ? s1_l : R == 2u ? s2_l : s3_l, fd = R == 1u ? n_l : R == 2u ? s1_l : s2_l;
    const float root = t + solve_set(n_l, s1_l, s2_l, s3_l);
    const bool tiny = b - a <= 4.8e-7 * max(abs(a), abs(b));
    const float next = min(t + (f - pow(f, 1.0 - 1.0 / float(R))) / fd, b);
    if ((root <= ymin_l && f <= 2.0) || tiny || next <= t) {
      tau = root;
      done = true;
      return;
    }
    base = next;
    hi = root > next && root < b ? root : b;
  } else {  // every point overshot (S_R < 1): back to the root of the smallest point's set
    const float root_low = pts[0] + solve_set(n[0], s1[0], s2[0], s3[0]);
    base = root_low > a && root_low < b ? root_low : 0.5 * (a + b);
    hi = b;
  }
  // Towards a set root: the last point is that root; towards b: short of it (b is known).
  const float span = hi < b ? float(POINTS - 1u) : float(POINTS);
  pts[0] = base;
  for (uint i = 1u; i < POINTS; ++i) pts[i] = base + (hi - base) * (float(i) / span);
}
