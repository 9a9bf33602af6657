"""Ingest benchmark: our streaming reader against pandas and against the pyarrow parse floor.

Generates a full-size synthetic quarter (about a million rows, like a real ICB/sub-ICB CSV)
and a file twice that size, then for each runs three methods, each in a fresh process so that
peak memory is its own:

* ours:    core.readers.read_file (core.scan.scan: newline-aligned blocks, each checked,
           parsed by pyarrow on its thread pool and filtered in turn; then tidying);
* pandas:  pandas.read_csv of the whole file, then the same filter;
* floor:   pyarrow.csv.read_csv of the whole file (multi-threaded parse, no filtering at all);
* old:     the reader before issue 8 (``git show 4cb2dac:core/readers.py``, a thread pool over
           blocks parsing the filter columns first) run from a temporary module, so that a
           change of speed is told apart from a change of load on this shared machine.

Prints times, peak RSS and ratios measured in the same run. Never asserts a time.

    python bench/ingest.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

from common import ROOT, full_size, run_child

#: The commit whose reader is the baseline.
OLD = "4cb2dac"

CHILD = r"""
method, path = sys.argv[1], sys.argv[2]
import importlib.util
import pandas as pd, pyarrow as pa, pyarrow.csv as pacsv
from core import readers
if method == "old":
    spec = importlib.util.spec_from_file_location("old_readers", sys.argv[3])
    old = importlib.util.module_from_spec(spec)
    sys.modules["old_readers"] = old
    spec.loader.exec_module(old)

base = hwm_mb()
t = time.perf_counter()
if method == "ours":
    rows = len(readers.read_file(path).frame)
elif method == "old":
    rows = len(old.read_file(path).frame)
elif method == "pandas":
    # The straightforward route: read everything, then filter.
    df = pd.read_csv(path)
    keep = df["MEASURE_ID"].isin(list(readers.MEASURE_BY_ID))
    keep &= df["GroupType"].isin(["England", "CommissioningRegion", "ICB", "SubICB"])
    keep &= df["VariableType"].isin(["Total", "BME Group", "Ethnic Group"])
    rows = int(keep.sum())
else:
    rows = pacsv.read_csv(path).num_rows
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "peak_mb": hwm_mb(), "base_mb": base, "rows": rows}))
"""


def make_files(folder: Path, rows: int) -> list[Path]:
    """A full-size quarter and a file twice its size (the same rows twice: the reader drops
    exact duplicates)."""
    one = full_size(folder / "full_quarter.csv", rows)
    data = one.read_bytes()
    header, body = data.split(b"\n", 1)
    two = folder / "double_quarter.csv"
    two.write_bytes(header + b"\n" + body + body)
    del data, body
    return [one, two]


def ratio(timings: dict[str, list[dict]], a: str, b: str) -> str:
    """Ratio of the medians, and the spread of the ratios within each round."""
    each = [x["seconds"] / y["seconds"] for x, y in zip(timings[a], timings[b], strict=True)]
    medians = [statistics.median(r["seconds"] for r in timings[m]) for m in (a, b)]
    return (f"{medians[0] / medians[1]:.2f}x (per round: median {statistics.median(each):.2f}x, "
            f"{min(each):.2f}-{max(each):.2f}x)")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(Path(tmp), args.rows)
        old = Path(tmp) / "old_readers.py"
        old.write_bytes(subprocess.run(["git", "show", f"{OLD}:core/readers.py"], cwd=ROOT,
                                       check=True, capture_output=True).stdout)
        for path in files:
            size_mb = path.stat().st_size / 1024**2
            lines = sum(1 for _ in open(path, "rb")) - 1
            # Round robin, so that a slow spell of this (noisy) machine hits every method alike.
            timings: dict[str, list[dict]] = {"floor": [], "ours": [], "old": [], "pandas": []}
            for _ in range(args.repeat):
                for method, done in timings.items():
                    done.append(run_child(CHILD, method, str(path), str(old)))
            results = {}
            for method, runs in timings.items():
                results[method] = {
                    "seconds": statistics.median(r["seconds"] for r in runs),
                    "peak_mb": max(r["peak_mb"] for r in runs),
                    "base_mb": statistics.median(r["base_mb"] for r in runs),
                }
            print(f"\n{path.name}: {lines:,} rows, {size_mb:,.0f} MB (median of {args.repeat} runs)")
            print(f"{'method':<8}{'time s':>9}{'peak RSS MB':>14}{'after imports MB':>19}")
            # floor: pyarrow.csv.read_csv of the whole file, multi-threaded, no filtering
            for method, r in results.items():
                print(f"{method:<8}{r['seconds']:>9.2f}{r['peak_mb']:>14.0f}{r['base_mb']:>19.0f}")
            ours, floor, pandas = results["ours"], results["floor"], results["pandas"]
            print(f"ours / floor time:   {ratio(timings, 'ours', 'floor')}  (goal <= 1.5x)")
            print(f"pandas / ours time:  {ratio(timings, 'pandas', 'ours')}  (goal >= 3x)")
            print(f"ours / old time:     {ratio(timings, 'ours', 'old')}  (old reader, {OLD}; "
                  f"old / floor {ratio(timings, 'old', 'floor')})")
            print(f"ours peak RSS:       {ours['peak_mb']:.0f} MB (goal < 300 MB)  "
                  f"floor {floor['peak_mb']:.0f} MB, old {results['old']['peak_mb']:.0f} MB, "
                  f"pandas {pandas['peak_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
