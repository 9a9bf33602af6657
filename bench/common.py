"""What the benchmarks share: making a full-size file, and timing code in a fresh process.

Each measurement runs in its own process so its peak memory is its own. The child reports
VmHWM from /proc: ru_maxrss would carry the parent's peak over into the child.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Prepended to every child's code: the project on the path, and a peak-memory reader.
CHILD_PRELUDE = f"""
import json, sys, time
sys.path.insert(0, {str(ROOT)!r})
def hwm_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
"""


def full_size(path: Path, rows: int) -> Path:
    """A synthetic quarter of about ``rows`` rows (CSV or zip by suffix), made in a child
    process so the benchmark's own process stays small."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample.py"), "full-size",
                    str(path), "--rows", str(rows)], check=True, capture_output=True)
    return path


def run_child(code: str, *args: str) -> dict:
    """Run ``CHILD_PRELUDE + code`` with ``args`` in a fresh interpreter; it prints one JSON
    line last."""
    out = subprocess.run([sys.executable, "-c", CHILD_PRELUDE + code, *args],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


WORST = r"""
path = sys.argv[1]
import pandas as pd
sys.path.insert(0, str(ROOT / "scripts"))
import make_sample as m
from core import limits, validate
from core.terms import MEASURE_BY_ID
start = m.quarters()[-1]
base = m.quarter_frame(m.Model(), start, filler_scale=0)
kept_ids = {k for k in MEASURE_BY_ID}
is_kept = base["MEASURE_ID"].isin(kept_ids)
sub = base[base["GroupType"] == "SubICB"]
one = sub[sub["SubICB"] == sub["SubICB"].iloc[0]]           # every group of one sub-ICB location
total = one[one["VariableType"] == "Total"]                 # its whole-population rows only
per_full, per_total = int(one["MEASURE_ID"].isin(kept_ids).sum()), int(total["MEASURE_ID"].isin(kept_ids).sum())
others = base[base["GroupType"] != "SubICB"]
fixed_rows, fixed_areas = int(others["MEASURE_ID"].isin(kept_ids).sum()), int(others["ICB"].nunique())
# As many areas as the readers accept, each with every group while the kept-row cap allows,
# the rest with their whole-population rows: both caps reached at once.
areas = validate.MAX_AREAS - fixed_areas
full = (limits.MAX_KEPT_ROWS - fixed_rows - per_total * areas) // (per_full - per_total)
parts = [others]
for i in range(areas):
    block = (one if i < full else total).copy()
    block["SubICB"], block["SubICBName"] = f"X{i:05d}", f"NHS WORST CASE SUB-ICB LOCATION {i:05d}"
    parts.append(block)
frame = pd.concat(parts, ignore_index=True)
kept = int(frame["MEASURE_ID"].isin(kept_ids).sum())
n_areas = fixed_areas + areas
assert kept <= limits.MAX_KEPT_ROWS and n_areas <= validate.MAX_AREAS, (kept, n_areas)
data = m.csv_bytes(m.as_published(frame, start))
# Padding: rows of a measure the readers skip, up to just under the upload limit.
filler = frame[~frame["MEASURE_ID"].isin(kept_ids)].head(5000)
pad = m.csv_bytes(m.as_published(filler, start)).split(b"\r\n", 1)[1]
# The upload widget counts MB in thousands on every system but Windows, where it counts MiB
# (Streamlit's frontend), so the largest file a browser can upload is the smaller of the two.
widget = limits.MAX_UPLOAD_BYTES
room = widget - (1 << 20) - len(data)
with open(path, "wb") as f:
    f.write(data)
    f.write(pad * max(0, room // len(pad)))
rows = len(frame) + len(filler) * max(0, room // len(pad))
print(json.dumps({"kept_rows": kept, "areas": n_areas, "rows": rows,
                  "max_kept_rows": limits.MAX_KEPT_ROWS, "max_areas": validate.MAX_AREAS,
                  "max_upload_mb": limits.MAX_UPLOAD_MB, "widget_bytes": widget}))
"""


def worst_case(path: Path) -> dict:
    """The largest file the readers accept (issue 13's "any accepted file"): a quarterly CSV
    keeping as many rows and areas as ``core.limits.MAX_KEPT_ROWS`` and
    ``core.validate.MAX_AREAS`` allow, padded with skipped rows to just under the upload
    limit (as the browser's upload widget counts it: 300 MB is 300,000,000 bytes there,
    as ``core.limits.MAX_UPLOAD_BYTES`` does). Made in a child process; returns what it holds."""
    return run_child(f"ROOT = __import__('pathlib').Path({str(ROOT)!r})\n" + WORST, str(path))
