import csv
import io
import subprocess
import sys

import pytest

from core import cli
from tests.conftest import ROOT, area_rows, quarterly_csv


def run(*args, store):
    return subprocess.run(
        [sys.executable, "-m", "core", *args, "--store", str(store)],
        capture_output=True, text=True, cwd=ROOT,
    )


def test_ingest_export_info_restore(tmp_path, small_csv):
    store = tmp_path / "s.parquet"
    r = run("ingest", str(small_csv), store=store)
    assert r.returncode == 0, r.stderr
    assert "Added" in r.stdout and "2025/26 Q3" in r.stdout

    r = run("export", "--level", "ICB", "--group", "Total", "--measure", "recovery", store=store)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {row["area_code"] for row in rows} == {"QHM", "QF7"}
    qhm = next(row for row in rows if row["area_code"] == "QHM")
    assert qhm["numerator"] == "480" and qhm["denominator"] == "950"
    assert float(qhm["rate"]) == pytest.approx(50.53, abs=0.01)
    assert qhm["published_rate"] == "51.0" and qhm["period"] == "2025/26 Q3"
    for col in ("period_start", "period_end", "ci95_low", "ci95_high", "suppressed"):
        assert col in qhm

    r = run("info", store=store)
    assert "Quarters: 1, 2025/26 Q3 to 2025/26 Q3" in r.stdout and "ICB: 2 areas" in r.stdout

    r = run("restore", store=store)
    assert r.returncode == 2 and "no earlier version" in r.stderr


def test_bad_file_exit_status_and_message(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(quarterly_csv(area_rows(recovered="lots")))
    r = run("ingest", str(bad), store=tmp_path / "s.parquet")
    assert r.returncode == 2
    assert "bad.csv, row 4, column 'MEASURE_VALUE_SUPPRESSED'" in r.stderr
    assert not (tmp_path / "s.parquet").exists()


def test_export_filters_by_period(tmp_path, small_csv, capsys):
    store = tmp_path / "s.parquet"
    assert cli.main(["ingest", str(small_csv), "--store", str(store)]) == 0
    capsys.readouterr()
    assert cli.main(["export", "--from", "2026/27 Q1", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert out.strip().count("\n") == 0  # header only
    assert cli.main(["export", "--from", "nonsense", "--store", str(store)]) == 2


def test_export_neutralises_formulas(tmp_path, capsys):
    store = tmp_path / "s.parquet"
    f = tmp_path / "evil.csv"
    f.write_bytes(quarterly_csv(area_rows(name='=HYPERLINK("http://x","click")')))
    assert cli.main(["ingest", str(f), "--store", str(store)]) == 0
    capsys.readouterr()
    assert cli.main(["export", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["area_name"].startswith("'=HYPERLINK")
    assert rows[0]["numerator"] == "480"  # numbers stay numbers
