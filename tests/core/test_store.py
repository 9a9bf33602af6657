import datetime as dt
import hashlib
import threading
from pathlib import Path

import pandas as pd
import pytest

from core import store as store_mod
from core.errors import InputError
from core.readers import read_file
from core.store import Store, ingest, merge
from tests.conftest import area_rows, quarterly_csv, small_quarter

TODAY = dt.date(2026, 11, 26)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def loaded(tmp_path, small_csv):
    s = Store(tmp_path / "store.parquet")
    ingest([small_csv], s)
    return s


def test_ingest_creates_store_with_log(loaded):
    f = loaded.load()
    assert len(f) > 5 and set(f["period"]) == {"2025/26 Q3"}
    log = loaded.log()
    assert len(log) == 1 and log[0]["rows_added"] == len(f) and log[0]["periods_added"] == ["2025/26 Q3"]
    assert not f["synthetic"].any()


def test_merge_replaces_same_key_keeps_rest(loaded, tmp_path):
    before = loaded.load()
    newer = tmp_path / "fix.csv"
    newer.write_bytes(quarterly_csv(area_rows(finished="1100", recovered="500")))
    results, report = ingest([newer], loaded)
    after = loaded.load()
    assert report.replaced == 1 and report.added == 0
    assert report.periods_replaced == ["2025/26 Q3"]
    assert len(after) == len(before)
    qhm = after[(after["area_code"] == "QHM") & (after["group"] == "Total")].iloc[0]
    assert qhm["finished"] == 1100 and qhm["source"] == "fix.csv"
    untouched = after[(after["area_code"] == "QF7")].iloc[0]
    assert untouched["finished"] == 2000


def test_merge_adds_new_period_and_reports_new_areas(loaded, tmp_path):
    nxt = tmp_path / "q4.csv"
    rows = small_quarter(start="2026-01-01", end="2026-03-31") + area_rows(
        start="2026-01-01", end="2026-03-31", code="D7T5G", name="NHS ESSEX INTEGRATED CARE BOARD")
    nxt.write_bytes(quarterly_csv(rows))
    _, report = ingest([nxt], loaded)
    assert report.periods_added == ["2025/26 Q4"]
    assert ("ICB", "D7T5G", "NHS ESSEX INTEGRATED CARE BOARD") in report.new_areas
    assert "D7T5G" in " ".join(report.lines())


def test_identical_reload_is_unchanged(loaded, small_csv):
    _, report = ingest([small_csv], loaded)
    assert report.added == 0 and report.replaced == 0 and report.unchanged > 5


def test_bad_file_changes_nothing_byte_for_byte(loaded, tmp_path, small_csv):
    before = digest(loaded.path)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(quarterly_csv(area_rows(nac="-1")))
    with pytest.raises(InputError):
        ingest([small_csv, bad], loaded)  # the good file with it is not applied either
    assert digest(loaded.path) == before
    assert not loaded.previous_path.exists()


def test_restore_previous_version(loaded, tmp_path):
    first = digest(loaded.path)
    newer = tmp_path / "fix.csv"
    newer.write_bytes(quarterly_csv(area_rows(finished="1100")))
    ingest([newer], loaded)
    second = digest(loaded.path)
    assert second != first and digest(loaded.previous_path) == first
    loaded.restore()
    assert digest(loaded.path) == first
    assert digest(loaded.previous_path) == second


def test_restore_without_previous(tmp_path):
    with pytest.raises(InputError, match="no previous version"):
        Store(tmp_path / "s.parquet").restore()


def test_failed_write_leaves_store_intact(loaded, monkeypatch, tmp_path):
    before = digest(loaded.path)

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(store_mod.os, "replace", boom)
    newer = tmp_path / "fix.csv"
    newer.write_bytes(quarterly_csv(area_rows(finished="1100")))
    with pytest.raises(OSError):
        ingest([newer], loaded)
    assert digest(loaded.path) == before
    assert not list(loaded.path.parent.glob(".tmp-*.parquet"))


def test_concurrent_saves_both_land(tmp_path):
    s = Store(tmp_path / "s.parquet")
    files = []
    for i, (start, end) in enumerate([("2025-04-01", "2025-06-30"), ("2025-07-01", "2025-09-30"),
                                      ("2025-10-01", "2025-12-31"), ("2026-01-01", "2026-03-31")]):
        p = tmp_path / f"q{i}.csv"
        p.write_bytes(quarterly_csv(area_rows(start=start, end=end)))
        files.append(read_file(p, today=TODAY))
    threads = [threading.Thread(target=s.add, args=([r],)) for r in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(s.load()["period"])) == 4
    assert len(s.log()) == 4


def test_merge_is_pure(loaded, small_csv):
    stored = loaded.load()
    incoming = read_file(small_csv, today=TODAY).frame
    merged, report = merge(stored, incoming)
    pd.testing.assert_frame_equal(stored, loaded.load())
    assert len(merged) == len(stored)


def test_merge_into_an_empty_store_leaves_the_input_alone(small_csv):
    incoming = read_file(small_csv, today=TODAY).frame.iloc[::-1].reset_index(drop=True)
    before = incoming.copy()
    merged, _ = merge(Store(Path("/nonexistent/none.parquet")).load(), incoming)
    pd.testing.assert_frame_equal(incoming, before)
    assert merged is not incoming
