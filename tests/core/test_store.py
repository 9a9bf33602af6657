import datetime as dt
import errno
import hashlib
import os
import shutil
import stat
import threading
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from core import history, model
from core import store as store_mod
from core.errors import InputError
from core.readers import read_file
from core.store import Store, ingest, load_store, merge
from tests.conftest import annual_csv, annual_frames, area_rows, quarterly_csv, small_quarter

TODAY = dt.date(2026, 11, 26)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(store, path) -> str:
    """The message ``ingest`` refuses ``path`` with, the store checked unchanged."""
    before = digest(store.path)
    with pytest.raises(InputError) as exc:
        ingest([path], store)
    assert digest(store.path) == before
    return str(exc.value)


def leftovers(store):
    """Temporary files anywhere beside the store or in its history."""
    return [p.name for p in store.path.parent.rglob("*") if p.name.startswith(".tmp-")]


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
    results, report = ingest([newer], loaded, partial=True)
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
    versions = history.versions(loaded.path)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(quarterly_csv(area_rows(nac="-1")))
    with pytest.raises(InputError):
        ingest([small_csv, bad], loaded)  # the good file with it is not applied either
    assert digest(loaded.path) == before
    assert history.versions(loaded.path) == versions


def test_restore_without_previous(tmp_path):
    with pytest.raises(InputError, match="no earlier version"):
        Store(tmp_path / "s.parquet").restore()


def test_failed_write_leaves_store_intact(loaded, monkeypatch, tmp_path):
    before = digest(loaded.path)

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(history.os, "replace", boom)
    newer = tmp_path / "fix.csv"
    newer.write_bytes(quarterly_csv(area_rows(finished="1100")))
    with pytest.raises(OSError, match="disk full"):
        ingest([newer], loaded, partial=True)
    assert digest(loaded.path) == before
    assert leftovers(loaded) == []


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


# --- writes that fail -------------------------------------------------------------------------


def test_full_disk_says_so_and_leaves_no_partial_file(loaded, monkeypatch, tmp_path):
    """Today's main: the finally block reads ``prev_tmp`` before it is set, so the error is an
    UnboundLocalError and the half-written temporary file stays on the full disk."""
    before = digest(loaded.path)
    kept = history.versions(loaded.path)

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    newer = tmp_path / "fix.csv"
    newer.write_bytes(quarterly_csv(area_rows(finished="1100")))
    with pytest.raises(OSError, match="No space left on device"):
        ingest([newer], loaded, partial=True)
    assert digest(loaded.path) == before
    assert history.versions(loaded.path) == kept
    assert leftovers(loaded) == []


# --- the history ------------------------------------------------------------------------------


def quarter_file(tmp_path, i: int, finished: str = "170000") -> Path:
    """A small complete quarter (i-th of four), as a new period or a revision of one."""
    start, end = [("2025-04-01", "2025-06-30"), ("2025-07-01", "2025-09-30"),
                  ("2025-10-01", "2025-12-31"), ("2026-01-01", "2026-03-31")][i % 4]
    p = tmp_path / f"q{i}_{finished}.csv"
    rows = small_quarter(start, end)
    rows[:6] = area_rows(start, end, level="England", code="ENG", name="England",
                         finished=finished, nac="9000", recovered="81000", reliable="76000",
                         pct="50.3")
    p.write_bytes(quarterly_csv(rows))
    return p


def england_finished(store: Store) -> list[int]:
    f = store.load()
    f = f[(f["level"] == "England") & (f["group"] == "Total")].sort_values("period_start")
    return [int(x) for x in f["finished"]]


def test_every_write_is_a_version_undo_walks_back_and_redo_forward(tmp_path):
    s = Store(tmp_path / "s.parquet")
    digests = []
    for finished in ("170000", "170001", "170002"):
        ingest([quarter_file(tmp_path, 0, finished)], s)
        digests.append(digest(s.path))
    assert [v.number for v in history.versions(s.path)] == [1, 2, 3]
    assert england_finished(s) == [170002]
    s.undo()
    assert digest(s.path) == digests[1]
    s.undo()  # a second undo moves further back, it does not re-apply the save
    assert digest(s.path) == digests[0]
    with pytest.raises(InputError, match="no earlier version"):
        s.undo()
    assert digest(s.path) == digests[0]
    assert s.redo().version == 2 and digest(s.path) == digests[1]
    assert s.redo().version == 3 and digest(s.path) == digests[2]
    with pytest.raises(InputError, match="no later version"):
        s.redo()
    # versions are never edited: each file still hashes to its name
    assert all(history.intact(v) is None for v in history.versions(s.path))


def test_ingesting_the_same_file_twice_writes_no_new_version(tmp_path, small_csv):
    s = Store(tmp_path / "s.parquet")
    ingest([small_csv], s)
    first, mtime = digest(s.path), s.path.stat().st_mtime_ns
    _, report = ingest([small_csv], s)
    assert report.changes_nothing and "Nothing to change" in report.lines()[0]
    assert "Periods already stored: 2025/26 Q3." in report.lines()
    assert len(history.versions(s.path)) == 1 and len(s.log()) == 1
    assert digest(s.path) == first and s.path.stat().st_mtime_ns == mtime


def test_two_files_disagreeing_on_a_row_are_refused_and_change_nothing(loaded, tmp_path,
                                                                       small_csv):
    rows = small_quarter()
    for r in rows:  # South Yorkshire's recovered, as a revised publication might give it
        if (r[2], r[10], r[12]) == ("QF7", "Total", "M191"):
            r[14] = "990"
    revised = tmp_path / "revised.csv"
    revised.write_bytes(quarterly_csv(rows))
    before = digest(loaded.path)
    with pytest.raises(InputError) as err:
        ingest([small_csv, revised], loaded)
    said = str(err.value)
    assert "revised.csv" in said and small_csv.name in said and "2025/26 Q3" in said
    assert "ICB QF7" in said and "recovered is 1,000 in one and 990 in the other" in said
    assert digest(loaded.path) == before
    # The same rows in two files (a quarter's zip and its ICB CSV) are one row.
    copy = tmp_path / "copy.csv"
    copy.write_bytes(small_csv.read_bytes())
    _, report = ingest([small_csv, copy], loaded)
    assert report.changes_nothing


def test_two_concurrent_undos_move_back_two_versions(tmp_path):
    s = Store(tmp_path / "s.parquet")
    for finished in ("170000", "170001", "170002"):
        ingest([quarter_file(tmp_path, 0, finished)], s)
    threads = [threading.Thread(target=s.undo) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert england_finished(s) == [170000]


def test_undo_skips_a_damaged_version_with_a_message(tmp_path):
    s = Store(tmp_path / "s.parquet")
    for finished in ("170000", "170001", "170002"):
        ingest([quarter_file(tmp_path, 0, finished)], s)
    v2 = history.versions(s.path)[1]
    data = bytearray(v2.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    v2.path.write_bytes(bytes(data))
    moved = s.undo()
    assert moved.version == 1 and "Version 2 was skipped" in " ".join(moved.skipped)
    assert england_finished(s) == [170000]
    before = digest(s.path)
    with pytest.raises(InputError, match="Version 2 was skipped.*no later version"):
        s.redo()  # the only version made from v1 is the damaged v2
    assert digest(s.path) == before


def test_a_zero_byte_version_is_never_restored(tmp_path):
    s = Store(tmp_path / "s.parquet")
    for finished in ("170000", "170001"):
        ingest([quarter_file(tmp_path, 0, finished)], s)
    history.versions(s.path)[0].path.write_bytes(b"")
    before = digest(s.path)
    with pytest.raises(InputError, match="Version 1 was skipped"):
        s.undo()
    assert digest(s.path) == before


def test_keeps_the_last_n_versions(tmp_path):
    s = Store(tmp_path / "s.parquet", keep=5)
    for i in range(8):
        ingest([quarter_file(tmp_path, 0, str(170000 + i))], s)
    assert [v.number for v in history.versions(s.path)] == [4, 5, 6, 7, 8]
    with pytest.raises(ValueError, match="at least 5"):
        Store(tmp_path / "s.parquet", keep=4)


def test_permissions_match_the_original_file(tmp_path, small_csv):
    s = Store(tmp_path / "s.parquet")
    ingest([small_csv], s)
    assert stat.S_IMODE(s.path.stat().st_mode) != 0o600  # readable by the app's user
    os.chmod(s.path, 0o640)
    ingest([quarter_file(tmp_path, 1)], s)
    assert stat.S_IMODE(s.path.stat().st_mode) == 0o640
    s.undo()
    assert stat.S_IMODE(s.path.stat().st_mode) == 0o640


def test_a_store_from_before_versions_is_kept_as_the_first_version(tmp_path, small_csv):
    s = Store(tmp_path / "s.parquet")
    ingest([small_csv], s)
    shutil.rmtree(history.folder(s.path))
    legacy = digest(s.path)
    ingest([quarter_file(tmp_path, 3)], s)
    s.undo()
    assert digest(s.path) == legacy


# --- missing values, cut files ----------------------------------------------------------------


def test_merge_never_blanks_a_stored_value_unless_the_file_marks_it_suppressed(loaded):
    """Today's main: merge replaces present values with missing ones (issue 13, item 1)."""
    stored = loaded.load()
    incoming = stored.copy()
    eng = (incoming["level"] == "England") & (incoming["group"] == "Total")
    bme = (incoming["level"] == "England") & (incoming["group"] == "BME")
    incoming.loc[eng | bme, "finished"] = pd.NA
    incoming.loc[eng, "suppressed"] = False  # missing, not marked: keep the stored number
    incoming.loc[bme, "suppressed"] = True  # marked suppressed: the file's blank wins
    merged, report = merge(stored, incoming)
    key = ["level", "group"]
    before = stored.set_index(key)["finished"]
    after = merged.set_index(key)["finished"]
    assert after[("England", "Total")] == before[("England", "Total")] == 170000
    assert pd.isna(after[("England", "BME")])
    assert report.kept_values == 1
    assert "Stored values kept where the file has none" in " ".join(report.lines())


def test_a_cut_file_is_refused_and_changes_nothing(loaded, tmp_path, small_csv):
    """A quarterly CSV cut after a complete row (``head -n``) covers far fewer areas and groups
    than the store holds for its quarter. Today's main: ingested, exit 0."""
    lines = small_csv.read_bytes().splitlines(keepends=True)
    cut = tmp_path / "cut.csv"
    cut.write_bytes(b"".join(lines[:1 + 6 * 4]))  # header and the first four areas-and-groups
    before = digest(loaded.path)
    held = len(loaded.load())
    with pytest.raises(InputError) as exc:
        ingest([cut], loaded)
    msg = str(exc.value)
    assert f"covers 4 of the {held} area and group rows the store holds for 2025/26 Q3" in msg
    assert "nothing was changed" in msg and "--allow-partial" in msg
    assert digest(loaded.path) == before
    _, report = ingest([cut], loaded, partial=True)  # on purpose: allowed
    assert report.unchanged == 4


def test_a_renamed_level_is_named_where_the_file_is_refused(loaded, tmp_path):
    """England's GroupType renamed 'National': its rows were dropped as a level not read, and
    the file refused as cut short with only a guess at why (a helper's review). The refusal
    and the reader's warnings now name the GroupType found; the store is unchanged."""
    q4 = ("2026-01-01", "2026-03-31")
    renamed = [[*r[:8], "National" if r[8] == "England" else r[8], *r[9:]]
               for r in small_quarter(*q4)]
    assert any(r[8] == "National" for r in renamed)
    path = tmp_path / "q4_national.csv"
    path.write_bytes(quarterly_csv(renamed))
    msg = refused(loaded, path)
    assert "no England rows at all" in msg
    assert "GroupType or OrgType 'National' were not read" in msg, msg
    warned = read_file(path).warnings
    assert any("'National' were not read" in w for w in warned), warned


def test_a_new_quarter_cut_short_is_refused_against_the_quarter_before(loaded, tmp_path):
    """A file cut at a line break is refused for a quarter the store already holds (above),
    but a new quarter, the usual upload, went in with no sub-ICB rows and a third of its ICB
    rows (robustness review, 2026-11-28). It is now compared with the quarter before."""
    q4 = ("2026-01-01", "2026-03-31")
    whole = small_quarter(*q4)
    cut = tmp_path / "q4_cut.csv"
    cut.write_bytes(quarterly_csv([r for r in whole if r[8] != "SubICB"]))
    before = digest(loaded.path)
    with pytest.raises(InputError) as exc:
        ingest([cut], loaded)
    msg = str(exc.value)
    assert "2025/26 Q4 is new to the store" in msg and "for 2025/26 Q3" in msg, msg
    assert "no SubICB rows at all" in msg and "--allow-partial" in msg
    assert "renamed those rows' GroupType or OrgType" in msg  # where a renamed tier hides
    assert digest(loaded.path) == before
    half = tmp_path / "q4_half.csv"
    half.write_bytes(quarterly_csv(whole[: len(whole) // 3 // 6 * 6]))
    with pytest.raises(InputError, match="is new to the store"):
        ingest([half], loaded)
    # The whole quarter goes in, and so does the cut one when asked to.
    full = tmp_path / "q4.csv"
    full.write_bytes(quarterly_csv(whole))
    _, report = ingest([full], loaded)
    assert report.periods_added == ["2025/26 Q4"]
    q1 = tmp_path / "q1_cut.csv"
    q1.write_bytes(quarterly_csv([r for r in small_quarter("2026-04-01", "2026-06-30")
                                  if r[8] != "SubICB"]))
    _, report = ingest([q1], loaded, partial=True)
    assert report.periods_added == ["2026/27 Q1"]


def test_a_file_suppressing_many_stored_counts_is_refused(loaded, tmp_path):
    """A re-issue with every value below England blanked or pasted as '*' replaced the stored
    numbers with 'suppressed' and said it had read the file without problems (a helper's
    review). A republication suppresses a few counts anew; more than BLANK_SHARE is refused."""
    rows = small_quarter()
    for r in rows:
        if r[8] != "England":
            r[14] = "*"
    blanked = tmp_path / "blanked.csv"
    blanked.write_bytes(quarterly_csv(rows))
    msg = refused(loaded, blanked)
    assert "for 2025/26 Q3 the file marks as suppressed (or sets to 0) 30 of the 42 counts " \
        "the store holds in the rows it replaces (71%; first: Region Y63, Whole population: " \
        "finished 25,000 stored, suppressed in the file)" in msg, msg
    assert "--allow-partial" in msg
    # One count suppressed anew (1 of 42, under 5%) is a republication: loaded.
    one = small_quarter()
    for r in one:
        if r[2] == "Y63" and r[12] == "M076":
            r[14] = "*"
    single = tmp_path / "one.csv"
    single.write_bytes(quarterly_csv(one))
    _, report = ingest([single], loaded)
    assert report.replaced == 1
    _, report = ingest([blanked], loaded, partial=True)  # on purpose: allowed
    assert report.replaced > 1


def test_a_file_setting_many_stored_counts_to_0_is_refused(loaded, tmp_path):
    """Formulas lost in a spreadsheet: every count 0. With England's it is refused at the
    England row (NHS England never publishes a national 0); without, by the 5% rule
    (a helper's review: all counts 0 replaced the store without a word)."""
    rows = small_quarter()
    for r in rows:
        if r[12] in ("M076", "M179", "M191", "M193"):
            r[14] = "0"
    zeros = tmp_path / "zeros.csv"
    zeros.write_bytes(quarterly_csv(rows))
    before = digest(loaded.path)
    with pytest.raises(InputError, match="England's finished count is 0: NHS England never"):
        ingest([zeros], loaded)
    below = small_quarter()
    for r in below:
        if r[12] in ("M076", "M179", "M191", "M193") and r[8] != "England":
            r[14] = "0"
    zeros.write_bytes(quarterly_csv(below))
    with pytest.raises(InputError, match=r"sets to 0\) 30 of the 42 counts .* finished 25,000 "
                       "stored, 0 in the file"):
        ingest([zeros], loaded)
    assert digest(loaded.path) == before


def test_a_history_copy_failing_after_the_commit_is_a_warning_not_an_error(
        loaded, tmp_path, monkeypatch):
    """Once the new store is in place, failing to copy it into the history said 'Nothing was
    changed' with exit 2, though the store had changed (a helper's review)."""
    def fail(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(history, "add", fail)
    path = tmp_path / "q4.csv"
    path.write_bytes(quarterly_csv(small_quarter("2026-01-01", "2026-03-31")))
    _, report = ingest([path], loaded)
    assert "2025/26 Q4" in set(loaded.load()["period"])
    assert report.lines()[-1].startswith(
        "Warning: the data was saved, but its copy in the version history")
    assert "Permission denied" in report.lines()[-1]
    monkeypatch.undo()
    loaded.recover()  # the next locked operation records the committed store as a version
    assert history.versions(loaded.path)[-1].checksum == digest(loaded.path)


def test_a_piece_of_a_quarter_older_than_any_stored_is_refused_against_the_one_after(
        loaded, tmp_path):
    """With no stored period before it, a cut file was stored as a whole quarter (a helper's
    second review): it is compared with the nearest stored period after it."""
    piece = [r for r in small_quarter("2025-07-01", "2025-09-30")
             if r[8] not in ("SubICB", "CommissioningRegion")]
    path = tmp_path / "q2_piece.csv"
    path.write_bytes(quarterly_csv(piece))
    with pytest.raises(InputError, match="2025/26 Q2 is new to the store, and the file has 9 "
                       "area and group rows for it against 11 for 2025/26 Q3, and no Region, "
                       "SubICB rows at all"):
        ingest([path], loaded)
    # The command line's way round it, and the page's words for it.
    assert "ingest it with --allow-partial" in store_mod.cut_message(
        store_mod.coverage(loaded.load(), read_file(path, today=TODAY).frame), "q2.csv")
    from core import preview
    pv = preview.preview(loaded.load(), [read_file(path, today=TODAY)])
    assert "python -m core ingest FILE --allow-partial on the command line" in pv.cut


def test_real_annual_files_load_one_year_at_a_time_in_order(tmp_path):
    """Real layout changes were taken for cut files (a helper's second review): 2019-20 has the
    seven NHS regions where 2018-19 had the four former ones, and the annual files from
    2022-23 have ICBs and no sub-ICB rows where 2021-22 had CCGs."""
    s = Store(tmp_path / "s.parquet")
    for year, frame in annual_frames().items():
        path = tmp_path / f"psych-ther-ann-{year}.csv"
        path.write_bytes(annual_csv(frame, year))
        _, report = ingest([path], s)
        assert report.periods_added == [year.replace("-", "/")]


def test_coverage_per_quarter(loaded, small_csv):
    stored = loaded.load()
    incoming = read_file(small_csv, today=TODAY).frame
    cov = store_mod.coverage(stored, incoming.iloc[:3])
    row = cov.iloc[0]
    assert row["period"] == "2025/26 Q3" and row["rows_store"] == len(stored)
    assert row["rows_covered"] == 3 and row["areas_store"] == stored["area_code"].nunique()


def test_remove_the_synthetic_sample_on_request(tmp_path, small_csv):
    s = Store(tmp_path / "s.parquet")
    ingest([quarter_file(tmp_path, 0)], s, synthetic=True)
    stored = s.load()
    result = read_file(small_csv, today=TODAY)
    assert store_mod.suggest_removing_sample(stored, [result])
    _, report = ingest([small_csv], s, remove_synthetic=True)
    f = s.load()
    assert not f["synthetic"].any() and set(f["period"]) == {"2025/26 Q3"}
    assert report.synthetic_removed == len(stored)
    assert "Synthetic sample rows removed" in " ".join(report.lines())
    assert not store_mod.suggest_removing_sample(f, [result])


# --- a store that cannot be used ----------------------------------------------------------------


def rewrite_meta(path: Path, **changes: bytes) -> None:
    table = pq.read_table(path)
    meta = dict(table.schema.metadata)
    meta.update({k.encode(): v for k, v in changes.items()})
    pq.write_table(table.replace_schema_metadata(meta), path)


def test_a_store_from_a_newer_version_is_refused_clearly(loaded, small_csv):
    """Today's main: ``info`` crashes and ``ingest`` silently drops the newer columns."""
    newer = store_mod.SCHEMA_VERSION + 1
    rewrite_meta(loaded.path, **{"nhstt.schema": str(newer).encode()})
    before = digest(loaded.path)
    with pytest.raises(store_mod.StoreError,
                       match=f"newer version of this tool .store format {newer}"):
        loaded.load()
    with pytest.raises(store_mod.StoreError):
        ingest([small_csv], loaded)
    assert digest(loaded.path) == before


def test_an_older_store_is_migrated(loaded, tmp_path):
    table = pq.read_table(loaded.path)
    meta = {k: v for k, v in table.schema.metadata.items() if not k.startswith(b"nhstt.schema")}
    pq.write_table(table.replace_schema_metadata(meta), loaded.path)
    rows = len(loaded.load())
    ingest([quarter_file(tmp_path, 3)], loaded)
    assert pq.read_schema(loaded.path).metadata[b"nhstt.schema"] == str(
        store_mod.SCHEMA_VERSION).encode()
    assert len(loaded.load()) == 2 * rows


def test_a_format_2_store_without_derived_loads_and_is_migrated(loaded, tmp_path):
    """A store written before rows carried ``derived`` (format 2, no such column) still loads:
    every row reads as published (derived False), and the next write is format 3 with the
    column; nothing else about its rows changes."""
    assert store_mod.SCHEMA_VERSION == 3
    table = pq.read_table(loaded.path)
    expected = loaded.load().drop(columns="derived")
    old = table.drop_columns(["derived"])
    meta = dict(table.schema.metadata)
    meta[b"nhstt.schema"] = b"2"
    pq.write_table(old.replace_schema_metadata(meta), loaded.path)
    assert "derived" not in pq.read_schema(loaded.path).names
    frame = loaded.load()
    assert list(frame.columns) == list(model.COLUMNS)
    assert frame["derived"].dtype == bool and not frame["derived"].any()
    pd.testing.assert_frame_equal(frame.drop(columns="derived"), expected)
    assert loaded.log()  # the log survives the migration
    ingest([quarter_file(tmp_path, 3)], loaded)
    schema = pq.read_schema(loaded.path)
    assert schema.metadata[b"nhstt.schema"] == b"3" and "derived" in schema.names


@pytest.mark.parametrize("damage", ["garbage", "empty", "folder", "bad log", "log not json"])
def test_an_unusable_store_gives_a_plain_store_error(tmp_path, loaded, damage):
    path = loaded.path
    if damage == "garbage":
        path.write_bytes(b"PAR1 this is not parquet")
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "folder":
        path.unlink()
        path.mkdir()
    elif damage == "bad log":
        rewrite_meta(path, **{"nhstt.log": b'[{"loaded_at": 5}]'})
    else:
        rewrite_meta(path, **{"nhstt.log": b"[{"})
    with pytest.raises(store_mod.StoreError) as exc:
        load_store(path)
        Store(path).log()
    assert "A maintainer can restore a previous version" in str(exc.value)
    assert str(path) in str(exc.value)


def test_undo_repairs_an_unreadable_store_from_the_last_good_version(loaded, tmp_path):
    ingest([quarter_file(tmp_path, 3)], loaded)
    good = digest(loaded.path)
    loaded.path.write_bytes(b"not a store")
    moved = loaded.undo()
    assert digest(loaded.path) == good and moved.version == 2


def test_git_ignores_what_a_write_of_the_bundled_store_creates():
    """Any write keeps versions in data/recovery.history/ and takes data/recovery.parquet.lock:
    neither may end up committed by accident."""
    import subprocess

    from core import history
    from tests.conftest import ROOT

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    store = ROOT / "data" / "recovery.parquet"
    made = [history.folder(store) / f"v000001.p000000.{'0' * 64}.parquet",
            Store(store).lock_path,
            store.parent / f"{history.TMP_PREFIX}{store.name}-abc.tmp"]
    out = subprocess.run(["git", "-C", str(ROOT), "check-ignore", *map(str, made)],
                         capture_output=True, text=True)
    assert out.stdout.split() == list(map(str, made))
    kept = subprocess.run(["git", "-C", str(ROOT), "check-ignore", str(store)], capture_output=True)
    assert kept.returncode == 1  # the store itself is tracked


def test_the_upload_bench_keeps_the_entry_point_through_ui_entry():
    """``ui.entry.keep_entry_point`` is the one place that patches Streamlit's PagesManager."""
    from tests.conftest import ROOT

    text = (ROOT / "bench" / "upload.py").read_text()
    assert "keep_entry_point()" in text and "PagesManager" not in text


def test_the_worst_case_benchmark_file_names_only_what_core_has():
    """bench/common.py's worst-case file is made in a child process from code in a string, so
    nothing checked its names: moving the scanner out of core.sources broke it unseen (its
    cap is core.limits.MAX_KEPT_ROWS). Every core attribute it reads must exist."""
    import importlib
    import re

    from bench import common

    used = set(re.findall(r"\b(limits|validate|sources|readers)\.([A-Z_a-z]+)", common.WORST))
    assert used
    for module, name in used:
        assert hasattr(importlib.import_module(f"core.{module}"), name), f"core.{module}.{name}"
