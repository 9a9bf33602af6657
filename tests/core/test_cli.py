import contextlib
import csv
import errno
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import cli, history
from tests.conftest import ROOT, area_rows, quarterly_csv, small_quarter


def run(*args, store):
    """``python -m core`` in a new process: what a maintainer types."""
    return subprocess.run(
        [sys.executable, "-m", "core", *args, "--store", str(store)],
        capture_output=True, text=True, cwd=ROOT,
    )


def call(*args, store):
    """The same command in this process (``cli.main``, which ``python -m core`` calls): a new
    process costs a second of imports, and ``run`` already covers that route."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([*args, "--store", str(store)])
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


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



def test_escape_sequences_in_a_file_never_reach_the_terminal_or_the_store(tmp_path):
    """An area name holding terminal escapes (clear the screen, recolour, set the window
    title) was printed raw by ``ingest`` and stored as it was (robustness review,
    2026-11-28); so was a file name holding them. Names are stored without control
    characters, and what the command line prints shows any left as escapes."""
    from core.store import Store

    evil = "\x1b[2J\x1b[31mEVIL\x1b]0;pwned\x07 name"
    rows = area_rows() + area_rows(level="SubICB", code="ZZ9", name=evil)
    path = tmp_path / "q\x1b[31m.csv"
    path.write_bytes(quarterly_csv(rows))
    store = tmp_path / "s.parquet"
    r = run("ingest", str(path), store=store)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout + r.stderr and "\x07" not in r.stdout + r.stderr
    assert "ZZ9" in r.stdout and "EVIL" in r.stdout
    names = set(Store(store).load()["area_name"].dropna())
    assert not [n for n in names if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in n)], names
    assert any("EVIL" in n for n in names)


def test_bad_file_exit_status_and_message(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(quarterly_csv(area_rows(recovered="lots")))
    r = call("ingest", str(bad), store=tmp_path / "s.parquet")
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


def test_history_undo_redo(tmp_path, small_csv):
    store = tmp_path / "s.parquet"
    assert call("ingest", str(small_csv), store=store).returncode == 0
    fix = tmp_path / "fix.csv"
    fix.write_bytes(quarterly_csv(area_rows(finished="1100")))
    r = call("ingest", str(fix), store=store)
    assert r.returncode == 2 and "--allow-partial" in r.stderr  # one row of a quarter: a cut file
    r = call("ingest", str(fix), "--allow-partial", store=store)
    assert r.returncode == 0, r.stderr
    r = call("history", store=store)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[1].startswith("* v2 (from v1)") and "fix.csv" in lines[1] and "sha256 " in lines[1]
    assert lines[2].startswith("  v1 (first kept)") and small_csv.name in lines[2]
    assert "rows (+" in lines[2]
    r = call("undo", store=store)
    assert r.returncode == 0 and "to version 1" in r.stdout
    assert call("history", store=store).stdout.splitlines()[2].startswith("* v1")
    r = call("redo", store=store)
    assert r.returncode == 0 and "forward to version 2" in r.stdout


def plain_failure(r: subprocess.CompletedProcess, *words: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.startswith("error: ")
    for w in words:
        assert w in r.stderr, r.stderr


def test_broken_or_unwritable_stores_are_said_in_words(tmp_path, small_csv):
    """Today's main: tracebacks for each of these (issue 13, items 3 and 9). In a new process
    (``run``), so that stderr is all a maintainer would see: warnings, and what pyarrow writes
    itself, included."""
    folder = tmp_path / "folder"
    folder.mkdir()
    plain_failure(run("ingest", str(small_csv), store=folder), "is a folder")
    plain_failure(run("info", store=folder), "is a folder")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 garbage")
    for cmd in ("info", "export", "history"):
        plain_failure(run(cmd, store=broken), "broken.parquet", "damaged",
                      "A maintainer can restore a previous version")
    plain_failure(run("ingest", str(small_csv), store=broken), "damaged")
    assert broken.read_bytes() == b"PAR1 garbage"
    # a folder nobody may write to (root can write anywhere on disk, so use /proc)
    plain_failure(run("ingest", str(small_csv), store=Path("/proc/nhstt/s.parquet")), "/proc/nhstt")


def test_a_read_only_folder_is_said_in_words(tmp_path, small_csv, monkeypatch, capsys):
    store = tmp_path / "s.parquet"
    assert cli.main(["ingest", str(small_csv), "--store", str(store)]) == 0
    before = store.read_bytes()

    def read_only(*a, **k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / ".tmp-x"))

    monkeypatch.setattr(history.tempfile, "mkstemp", read_only)
    capsys.readouterr()
    revised = tmp_path / "revised.csv"  # a change to write (the same file writes nothing)
    rows = small_quarter()
    for r in rows:
        if (r[2], r[10], r[12]) == ("QF7", "Total", "M191"):
            r[14] = "990"
    revised.write_bytes(quarterly_csv(rows))
    assert cli.main(["ingest", str(revised), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert "Read-only file system" in err and "Nothing was changed" in err
    assert f"the folder {tmp_path}: Read-only" in err and ".tmp-x" not in err
    assert store.read_bytes() == before


def test_misleading_refusals_now_say_what_is_wrong(tmp_path, small_csv):
    """Each of these was refused or accepted in words that misled (a helper's review)."""
    # a folder on the store's path is a file: it said 'File exists'
    (tmp_path / "notadir").write_text("")
    r = call("ingest", str(small_csv), store=tmp_path / "notadir" / "s.parquet")
    assert r.returncode == 2 and "notadir: is a file" in r.stderr
    # a CSV given as the store: it said the store was damaged and could be restored
    r = call("ingest", str(small_csv), store=small_csv)
    assert r.returncode == 2 and "--store takes the Parquet store" in r.stderr
    assert "restore" not in r.stderr
    # --period with a quarterly file: ignored without a word
    r = call("ingest", str(small_csv), "--period", "2023-24", store=tmp_path / "s.parquet")
    assert r.returncode == 0 and "Warning: --period 2023-24 was not used" in r.stdout


def test_a_symlinked_store_is_written_where_it_lives(tmp_path, small_csv):
    """The atomic write replaced the link with a file: the shared store never got the data."""
    target = tmp_path / "shared" / "recovery.parquet"
    target.parent.mkdir()
    assert call("ingest", str(small_csv), store=target).returncode == 0
    link = tmp_path / "link.parquet"
    link.symlink_to(target)
    q4 = tmp_path / "q4.csv"
    q4.write_bytes(quarterly_csv(small_quarter("2026-01-01", "2026-03-31")))
    assert call("ingest", str(q4), store=link).returncode == 0
    assert link.is_symlink()
    assert "2025/26 Q4" in call("info", store=target).stdout


def test_many_unknown_codes_are_one_warning_and_a_name_is_said_on_one_line(tmp_path):
    """123 'Warning: unknown SubICB code' lines filled a screen, and a file name holding a
    line break printed a line that looked like another message (a helper's review)."""
    rows = small_quarter()
    for i in range(5):
        rows += area_rows(level="SubICB", code=f"ZZ{i}", name=f"NHS NOWHERE ICB - ZZ{i}",
                          finished="300", nac="15", recovered="140", reliable="130", pct="49")
    path = tmp_path / "q3\nfake line.csv"
    path.write_bytes(quarterly_csv(rows))
    r = call("ingest", str(path), store=tmp_path / "s.parquet")
    assert r.returncode == 0, r.stderr
    warnings = [line for line in r.stdout.splitlines() if line.startswith("Warning")]
    assert len(warnings) == 1 and warnings[0].startswith(
        "Warning: 5 area codes are not in the reference tables")
    assert "SubICB code ZZ0 (NHS NOWHERE ICB - ZZ0)" in warnings[0]
    # The Upload page's sentence (ReadResult.codes_in_one), not a near-copy of it.
    assert 'Their rows are kept, under "Region unknown" where the region cannot' in warnings[0]
    assert "q3\\nfake line.csv: quarterly CSV" in r.stdout
    assert not any(line.startswith("fake line.csv") for line in r.stdout.splitlines())


def test_ingest_cautions_a_figure_that_jumped_on_a_year_earlier(tmp_path):
    """``ingest`` tells the maintainer, as the Upload page does, which of the file's figures
    changed too sharply on the same quarter a year before (``core.unusual``)."""
    store = tmp_path / "s.parquet"
    earlier = tmp_path / "q3_24_25.csv"
    earlier.write_bytes(quarterly_csv(small_quarter("2024-10-01", "2024-12-31")))
    assert run("ingest", str(earlier), store=store).returncode == 0
    rows = small_quarter()
    for row in rows:  # QHM's whole population: three times as many finished treatment
        if row[2] == "QHM" and row[4] == "All_SubICB" and row[9] == "Total" and row[12] == "M076":
            row[14] = "3000"
    later = tmp_path / "q3_25_26.csv"
    later.write_bytes(quarterly_csv(rows))
    r = run("ingest", str(later), store=store)
    assert r.returncode == 0, r.stderr
    said = r.stdout[r.stdout.index("Warning: Treat with care"):]
    assert ("NHS North East and North Cumbria ICB, Whole population, 2025/26 Q3, on 2024/25 "
            "Q3: 950 → 2,950 people at caseness (×3.1)") in said, r.stdout
    assert "QF7" not in said and "South Yorkshire" not in said  # unchanged: not cautioned
