"""Markdown table of MQMTAR results (CSV files of `tessera eval --csv` / tools/reference/eval_mqmtar.py).

  python3 tools/tasks/mqmtar_report.py docs/mqmtar_pytorch.csv docs/mqmtar_tessera.csv [--pair-only]
Rows: model x runtime (PyTorch, cpu, vulkan, cpu-int8); cells: pair accuracy % (exact match %), with the sample
count as a superscript where it is not 300. Also prints, per runtime, the largest |pair accuracy - PyTorch| over
the cells where both ran the same 300 samples.
"""
import argparse
import csv

ORDER = ["softmax", "epanechnikov", "biweight", "triweight", "relumax"]
RUNTIMES = ["pytorch-float32", "cpu", "vulkan", "cpu-int8"]
SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--pair-only", action="store_true")
    a = ap.parse_args()
    cells, mults = {}, set()
    for path in a.csv:
        for r in csv.DictReader(open(path)):
            base = r["model"].removesuffix("-int8")
            cells[(base, r["backend"], int(r["multiple"]))] = r
            mults.add(int(r["multiple"]))
    mults = sorted(mults)
    print("| model | runtime | " + " | ".join(f"{m}×" for m in mults) + " |")
    print("|---|---|" + "---|" * len(mults))
    gaps = {}
    for m in ORDER:
        base = f"mqmtar-{m}"
        for rt in RUNTIMES:
            if not any((base, rt, x) in cells for x in mults):
                continue
            row = []
            for x in mults:
                r = cells.get((base, rt, x))
                if r is None:
                    row.append("–")
                    continue
                n = int(r["samples"])
                s = f"{float(r['pair_accuracy']):.1f}" if a.pair_only else \
                    f"{float(r['pair_accuracy']):.1f} ({float(r['exact_match']):.0f})"
                if n != 300:
                    s += f" ⁽{str(n).translate(SUP)}⁾"
                row.append(s)
                ref = cells.get((base, "pytorch-float32", x))
                if rt != "pytorch-float32" and ref and n == int(ref["samples"]):
                    d = abs(float(r["pair_accuracy"]) - float(ref["pair_accuracy"]))
                    worst, where, count = gaps.get(rt, (-1.0, "", 0))
                    gaps[rt] = (d, f"{base} {x}×", count + 1) if d > worst else (worst, where, count + 1)
            print(f"| {base} | {rt} | " + " | ".join(row) + " |")
    for rt, (d, where, count) in gaps.items():
        print(f"\n{rt}: largest |pair accuracy - PyTorch| over {count} cells with the same samples: {d:.2f} points"
              f" ({where})")


if __name__ == "__main__":
    main()
