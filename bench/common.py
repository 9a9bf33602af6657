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
