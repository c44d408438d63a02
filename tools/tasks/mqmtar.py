"""MQMTAR: multi-query multi-token associative recall, in the format of deep-spin/asentmax
scripts/generate_data.py (MultiQueryMultiTokenRecall) as wrapped by the seed code (see
docs/mqmtar.md, "Task format").

The random stream is Tessera's own (splitmix64), shared bit-for-bit with runtime/tasks/mqmtar.cpp, so a seed gives
the same sequences in Python and C++. The *distribution* follows asentmax: 10,000 distinct 2-token keys and values,
num_kv = floor(0.8 L / 6) pairs sampled without replacement, each unit `k1 k2 1 v1 v2 0` centred in a field of
spaces from which spaces are deleted at random until every unit takes L // num_kv tokens, then 4 queries `2 k1 k2`
(keys drawn with replacement); target `2 v1 v2` x 4.

Usage as a script: python3 mqmtar.py --seed 1 --length 64 --count 3  (prints JSON lines)
"""
import argparse
import json

MASK64 = (1 << 64) - 1

SPACE, KV_SEP, Q_SEP, ALPHABET_START = 0, 1, 2, 3
BOS, SEP, EOS, PAD = 259, 260, 261, 262
VOCAB_SIZE = 263
TARGET_TOKENS = 13  # 4 x (2 v1 v2) + EOS: the teacher-forced metric reads the last 13 predictions
TRAIN_LENGTH, TRAIN_VARY = 48, 16
EVAL_BASE_LENGTH = 64


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK64

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform integer in [0, n) by rejection (no modulo bias)."""
        if n <= 0:
            raise ValueError("below(n) needs n > 0")
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            x = self.next_u64()
            if x < limit:
                return x % n


def distinct(rng, n, count):
    """`count` distinct integers from [0, n) in draw order (rejection of repeats)."""
    seen, out = set(), []
    while len(out) < count:
        x = rng.below(n)
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


class Mqmtar:
    def __init__(self, seed, abc_size=256, vocab_size=10000, k_len=2, v_len=2, num_q=4, kv_num=4, kv_den=5):
        if abc_size + ALPHABET_START > BOS:
            raise ValueError(f"abc_size {abc_size} does not fit below BOS={BOS}")
        if vocab_size > abc_size ** min(k_len, v_len):
            raise ValueError(f"vocab_size {vocab_size} > abc_size^len")
        self.abc_size, self.k_len, self.v_len, self.num_q = abc_size, k_len, v_len, num_q
        self.kv_num, self.kv_den = kv_num, kv_den  # the share of the source given to pairs: 0.8 = 4/5
        self.rng = SplitMix64(seed)
        self.keys = [self._word(i, k_len) for i in distinct(self.rng, abc_size ** k_len, vocab_size)]
        self.values = [self._word(i, v_len) for i in distinct(self.rng, abc_size ** v_len, vocab_size)]

    def _by_first_token(self):
        if not hasattr(self, "_first_index"):
            self._first_index = {}
            for v, word in enumerate(self.values):
                self._first_index.setdefault(word[0], []).append(v)
        return self._first_index

    def _word(self, index, length):
        digits = []
        for _ in range(length):
            digits.append(ALPHABET_START + index % self.abc_size)
            index //= self.abc_size
        return digits[::-1]

    def num_pairs(self, seq_len):
        unit = self.k_len + self.v_len + 2
        return min((seq_len * self.kv_num) // (self.kv_den * unit), len(self.keys))

    def sample(self, length, vary=0, collide=0.0):
        """One (src, trg) pair; the source's pair region has length in [length - vary, length + vary].

        collide > 0 (training only; 0 keeps the spec's stream exactly): with that probability two pairs of
        the sample get values with the same first token and the first query asks for one of them: the
        case where the key context alone must pick the second value token (hard examples)."""
        seq_len = length - vary + self.rng.below(2 * vary + 1)
        num_kv = self.num_pairs(seq_len)
        unit_len = seq_len // max(num_kv, 1)
        kv_len = self.k_len + self.v_len + 1
        if num_kv < self.num_q or unit_len < kv_len + 1:
            raise ValueError(f"length {seq_len} is too short for {self.num_q} queries")
        k_ids = distinct(self.rng, len(self.keys), num_kv)
        v_ids = distinct(self.rng, len(self.values), num_kv)
        forced_q = None
        if collide > 0 and self.rng.below(1 << 20) < int(collide * (1 << 20)):
            i = self.rng.below(num_kv)
            j = (i + 1 + self.rng.below(num_kv - 1)) % num_kv
            same = [v for v in self._by_first_token()[self.values[v_ids[i]][0]] if v not in v_ids]
            if same:
                v_ids[j] = same[self.rng.below(len(same))]
                forced_q = j if self.rng.below(2) else i
        zeros_len = (unit_len + 1) * 2
        n_before = zeros_len // 2 - kv_len // 2
        n_slots = zeros_len - (kv_len + 1)
        src = []
        for i in range(num_kv):
            keep = unit_len - (kv_len + 1)  # spaces that survive the deletions, chosen uniformly (selection sampling)
            before = 0
            for slot in range(n_slots):
                if self.rng.below(n_slots - slot) < keep:
                    keep -= 1
                    before += slot < n_before
            after = unit_len - (kv_len + 1) - before
            src += [SPACE] * before + self.keys[k_ids[i]] + [KV_SEP] + self.values[v_ids[i]] + [SPACE] * (after + 1)
        trg = []
        for n in range(self.num_q):
            q = self.rng.below(num_kv)
            if n == 0 and forced_q is not None:
                q = forced_q
            src += [Q_SEP] + self.keys[k_ids[q]]
            trg += [Q_SEP] + self.values[v_ids[q]]
        return src, trg


def wrap(src, trg):
    """The seed's sequence: [BOS] src [SEP] trg [EOS]; model input = seq[:-1], next-token targets = seq[1:]."""
    return [BOS] + src + [SEP] + trg + [EOS]


def eval_seed(base_seed, length):
    """Each evaluation length has its own stream (and vocabulary), as asentmax regenerates per split."""
    return base_seed * 1_000_003 + length


def score(predicted, trg):
    """predicted: argmax ids at the last 13 input positions (they predict trg + EOS).
    Returns (pairs right, pairs total, exact) where a pair is right iff both value tokens are."""
    q = len(trg) // 3
    right = sum(1 for i in range(q) if predicted[3 * i + 1] == trg[3 * i + 1] and predicted[3 * i + 2] == trg[3 * i + 2])
    return right, q, right == q


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--length", type=int, default=EVAL_BASE_LENGTH)
    ap.add_argument("--vary", type=int, default=0)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--golden", action="store_true", help="write the JSON used by tests/tasks (several configs)")
    a = ap.parse_args()
    if a.golden:
        cases = []
        for seed, length, vary, count in ((1, 48, 16, 4), (7, 64, 0, 2), (123, 256, 0, 1), (5, 1024, 0, 1)):
            g = Mqmtar(seed)
            samples = [wrap(*g.sample(length, vary)) for _ in range(count)]
            cases.append({"seed": seed, "length": length, "vary": vary, "first_key": g.keys[0],
                          "first_value": g.values[0], "last_key": g.keys[-1], "sequences": samples})
        rng = SplitMix64(0)
        print(json.dumps({"splitmix64_seed0": [str(rng.next_u64()) for _ in range(4)], "cases": cases}))
        return
    g = Mqmtar(eval_seed(a.seed, a.length) if a.vary == 0 else a.seed)
    for _ in range(a.count):
        print(json.dumps(wrap(*g.sample(a.length, a.vary))))


if __name__ == "__main__":
    main()
