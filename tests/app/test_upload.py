"""AppTest: the upload flow (check, preview, apply for this session, download, save, undo) and
one test per bad input, each asserting the message and that nothing changed."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from core import cli, export, model, readers
from tests.app.conftest import app, chart_specs
from tests.conftest import (
    REAL,
    annual_csv,
    annual_frames,
    area_rows,
    needs_shared,
    quarterly_csv,
    small_quarter,
)

NEXT = ("2026-07-01", "2026-09-30")  # 2026/27 Q2: ended before today, not in the sample


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def next_quarter_zip() -> bytes:
    icb = quarterly_csv(small_quarter(*NEXT))
    return make_zip({"nhstt_q2_26_27_ICB_subICB.csv": icb, "nhstt_q2_26_27_provider.csv": icb})


@pytest.fixture
def shared_store(tmp_path, monkeypatch):
    """A copy of the bundled store standing in for the shared one: tests never touch data/."""
    path = tmp_path / "recovery.parquet"
    shutil.copy(model.DEFAULT_STORE, path)
    monkeypatch.setattr(model, "DEFAULT_STORE", path)
    return path


def upload_page(secrets: dict | None = None):
    at = app(secrets=secrets)
    at.run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception, at.exception
    return at


def upload(at, name: str, data: bytes, mime: str = "application/octet-stream"):
    """Upload a file, first asking for the uploader back if a file was already read."""
    if "upload_another" in {b.key for b in at.get("button")}:
        at.button(key="upload_another").click().run()
    at.get("file_uploader")[0].upload(name, data, mime).run()
    assert not at.exception, at.exception
    return at


def plain(text: str) -> str:
    """Page text with Markdown escapes removed, as a reader sees it."""
    return text.replace("\\", "")


def errors(at) -> str:
    """Error boxes and the messages shown under them as plain text."""
    return plain("\n".join([e.value for e in at.error] + [c.value for c in at.code]
                           + [t.value for t in at.text]))


def markdown(at) -> str:
    """Markdown and plain text together: what a reader sees."""
    return plain("\n".join([m.value for m in at.markdown] + [t.value for t in at.text]))


def assert_nothing_changed(at, store_path: Path, before: str) -> None:
    assert digest(store_path) == before
    assert "session_store_path" not in at.session_state
    assert not any("Includes your upload" in i.value for i in at.info)
    assert "apply_session" not in {b.key for b in at.get("button")}


# --- the whole flow ---------------------------------------------------------------------------


def test_upload_check_preview_apply_download(shared_store):
    before = digest(shared_store)
    at = upload(upload_page(), "nhstalkingtherapies_quarterly_data_q2_26_27.zip", next_quarter_zip())
    assert "read without problems" in at.success[0].value
    text = markdown(at)
    assert "2026/27 Q2" in text and "quarterly zip" in text
    assert "New periods: 2026/27 Q2" in text
    changes = at.dataframe[0].value
    assert "England" in set(changes["Area"]) and set(changes["Quarter"]) == {"2026/27 Q2"}
    spec, frames = chart_specs(at)[0]
    assert any("2026/27 Q2" in str(f.get("period", "").tolist()) for f in frames.values()
               if f is not None and "period" in f)
    assert {"Merged data (Parquet)", "Merged data (tidy CSV)"} <= {
        b.label for b in at.get("download_button")}

    at.button(key="apply_session").click().run()
    assert not at.exception
    assert any("Includes your upload" in i.value for i in at.info)
    assert digest(shared_store) == before  # the shared store is untouched

    at.switch_page("pages/trends.py").run()
    assert at.metric[0].label == "Recovery rate, 2026/27 Q2"
    assert any("Includes your upload" in i.value for i in at.info)

    at.switch_page("pages/upload.py").run()
    at.button(key="discard_session").click().run()
    at.switch_page("pages/trends.py").run()
    assert at.metric[0].label == "Recovery rate, 2024/25"  # the published year opens first


def test_two_sessions_only_the_uploader_sees_it(shared_store):
    a = upload(upload_page(), "q.zip", next_quarter_zip())
    a.button(key="apply_session").click().run()
    b = app()
    b.run()
    assert not any("Includes your upload" in i.value for i in b.info)
    assert b.metric[0].label == "Recovery rate, 2024/25"  # the published year opens first
    a.switch_page("pages/trends.py").run()
    assert a.metric[0].label == "Recovery rate, 2026/27 Q2"


def test_save_for_everyone_needs_password_then_undo(shared_store):
    at = upload(upload_page(), "q.zip", next_quarter_zip())
    assert not at.get("button") or not any(b.key == "save_shared" for b in at.get("button"))
    assert any("switched off" in c.value for c in at.caption)

    original = digest(shared_store)
    at = upload(upload_page({"upload_password": "s3cret"}), "q.zip", next_quarter_zip())
    assert at.button(key="save_shared").disabled
    at.text_input(key="upload_password").set_value("wrong").run()
    assert "not right" in errors(at) and at.button(key="save_shared").disabled
    at.text_input(key="upload_password").set_value("s3cret").run()
    assert not at.button(key="save_shared").disabled
    at.button(key="save_shared").click().run()
    assert not at.exception
    assert any("Saved" in s.value for s in at.success)
    assert digest(shared_store) != original
    from core.store import Store

    log = Store(shared_store).log()
    assert log[-1]["periods_added"] == ["2026/27 Q2"] and log[-1]["sources"]

    at.button(key="undo_shared").click().run()
    assert any("previous version" in s.value for s in at.success)
    assert digest(shared_store) == original


def test_saving_the_same_file_again_makes_no_new_version(shared_store):
    from core import history

    at = upload(upload_page({"upload_password": "s3cret"}), "q.zip", next_quarter_zip())
    at.text_input(key="upload_password").set_value("s3cret").run()
    at.button(key="save_shared").click().run()
    assert any("Saved" in s.value for s in at.success)
    saved, versions = digest(shared_store), len(history.versions(shared_store))
    at.button(key="save_shared").click().run()
    assert not at.exception
    assert any("Nothing to save" in i.value for i in at.info), [i.value for i in at.info]
    assert not any("Saved" in s.value for s in at.success)
    assert digest(shared_store) == saved and len(history.versions(shared_store)) == versions
    # Uploaded once more, the preview says so before anything is pressed.
    at = upload(upload_page(), "q.zip", next_quarter_zip())
    assert any("This file changes nothing" in i.value for i in at.info)


@needs_shared()
def test_real_rows(shared_store):
    before = digest(shared_store)
    name = "quarterly_icb_subicb_2026-27-q1_rows.csv"
    at = upload(upload_page(), name, (REAL / name).read_bytes(), "text/csv")
    assert "no recovery measures found" in errors(at)
    assert_nothing_changed(at, shared_store, before)

    rows = list(csv.reader(io.StringIO((REAL / name).read_text())))
    out = [r[:12] + [m, n, v] for r in rows[1:] for m, n, v in (
        ("M076", "Count_FinishedCourseTreatment", "2000"), ("M179", "Count_NotAtCaseness", "100"),
        ("M191", "Count_Recovery", "950"))]
    at = upload(upload_page(), "relabelled.csv", quarterly_csv(out, rows[0]), "text/csv")
    # the first real quarterly file: removing the synthetic sample is suggested, not forced
    assert at.checkbox(key="remove_synthetic").value is True
    assert "Synthetic sample rows removed" in markdown(at)
    # ... and the page says what that leaves: one quarter, too few for a trend
    short = "quarterly view will hold 1 quarter"
    assert any(short in w.value for w in at.warning)
    at.checkbox(key="remove_synthetic").uncheck().run()
    assert not any(short in w.value for w in at.warning)
    text = markdown(at)
    assert "2026/27 Q1" in text and "06Q" in text  # a merged ICB's sub-ICB: named, not rejected
    assert "InvalidRegionCode" in text  # skipped, and said so


# --- bad input: a clear error, and nothing lost -------------------------------------------------


@functools.lru_cache(maxsize=1)
def bad_files() -> dict[str, tuple[str, bytes, str]]:
    good = quarterly_csv(small_quarter(*NEXT))
    big_zip = make_zip({"q_ICB_subICB.csv": b"0" * (60 * 1024**2)})
    evil_zip = make_zip({"../x_ICB_subICB.csv": good})
    xlsx = make_zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"})
    clash = small_quarter(*NEXT)
    twin = list(clash[0])
    twin[14] = "12345"
    return {
        "empty": ("empty.csv", b"", "the file is empty"),
        "header only": ("header.csv", quarterly_csv([]), "header but no data rows"),
        "another dataset": ("other.csv", b"station,temp\nheathrow,12\n", "not an NHS Talking Therapies"),
        "excel renamed": ("renamed.csv", xlsx, "Excel workbook"),
        "truncated csv": ("cut.csv", good[: len(good) - 25], "cut short"),
        "truncated zip": ("cut.zip", next_quarter_zip()[:300], "damaged or incomplete"),
        "zip bomb": ("bomb.zip", big_zip, "zip bomb"),
        "zip path traversal": ("evil.zip", evil_zip, "points outside"),
        "conflicting duplicates": ("dup.csv", quarterly_csv(clash + [twin]), "two different values"),
        "future quarter": ("future.csv", quarterly_csv(small_quarter("2027-01-01", "2027-03-31")),
                           "from the future"),
        "negative count": ("neg.csv", quarterly_csv(area_rows(*NEXT, nac="-5")), "negative"),
        "impossible count": ("huge.csv", quarterly_csv(area_rows(*NEXT, finished="1e19")),
                             "cannot exceed 60,000,000"),
        "text in a count": ("text.csv", quarterly_csv(area_rows(*NEXT, recovered="many")),
                            "expected a number"),
        "recovered above denominator": (
            "over.csv", quarterly_csv(area_rows(*NEXT, finished="100", nac="10", recovered="150")),
            "more than finished minus not at caseness"),
        "missing column": ("cols.csv", b"REPORTING_PERIOD_START,REPORTING_PERIOD_END,GroupType\n1,2,3\n",
                           "missing column"),
    }


@pytest.mark.parametrize("case", list(bad_files()))
def test_bad_input_clear_error_nothing_lost(case, shared_store, tmp_path, capsys):
    name, data, message = bad_files()[case]
    before = digest(shared_store)
    at = upload(upload_page(), name, data)
    shown = errors(at)
    assert message in shown and "Nothing was changed" in shown, shown
    assert name in shown  # says which file
    assert_nothing_changed(at, shared_store, before)
    # the command line refuses the same file with the same message
    path = tmp_path / name
    path.write_bytes(data)
    assert cli.main(["ingest", str(path), "--store", str(shared_store)]) == 2
    assert message in capsys.readouterr().err
    assert digest(shared_store) == before


def test_file_over_the_size_limit(shared_store, monkeypatch):
    monkeypatch.setattr(readers, "MAX_UPLOAD_BYTES", 10_000)
    before = digest(shared_store)
    at = upload(upload_page(), "huge.zip", next_quarter_zip() + b"\0" * 20_000)
    assert "huge.zip" in errors(at) and "over the" in errors(at) and "MB limit" in errors(at)
    assert "Nothing was changed" in errors(at)
    assert_nothing_changed(at, shared_store, before)


def test_error_keeps_this_sessions_upload(shared_store):
    at = upload(upload_page(), "q.zip", next_quarter_zip())
    at.button(key="apply_session").click().run()
    own = at.session_state["session_store_path"]
    own_digest = digest(Path(own))
    upload(at, "empty.csv", b"")
    assert "the file is empty" in errors(at)
    assert at.session_state["session_store_path"] == own and digest(Path(own)) == own_digest


@pytest.mark.parametrize("encoding,prefix", [("utf-8", b"\xef\xbb\xbf"), ("windows-1252", b"")])
def test_bom_and_windows_1252_accepted(shared_store, encoding, prefix):
    rows = small_quarter(*NEXT)
    for r in rows:
        if r[2] == "QHM":
            r[3] = "NHS CAFÉ ICB"
    at = upload(upload_page(), "q.csv", prefix + quarterly_csv(rows, encoding=encoding), "text/csv")
    assert "read without problems" in at.success[0].value
    changes = at.dataframe[0].value
    # Decoded right: the short name and the full name (title-cased) keep the É.
    assert "Café" in set(changes["Area"])
    assert "NHS Café ICB (QHM)" in set(changes["Full name (code)"])


def test_exact_duplicate_rows_accepted_and_reported(shared_store):
    rows = small_quarter(*NEXT)
    at = upload(upload_page(), "dups.csv", quarterly_csv(rows + rows[:6]), "text/csv")
    assert "Exact duplicate rows ignored: 6" in markdown(at)


def test_hostile_names_are_text_everywhere(shared_store):
    evil = ['=HYPERLINK("http://evil","x")', "+SUM(1)", "-2+3", "@cmd",
            "[click](javascript:alert(1)) <b>bold</b>", "see https://evil.example now",
            "www.evil.example", "mail me@evil.example", "Heading\n===", ":red[alarm] $x^2$"]
    rows = []
    for i, name in enumerate(evil):
        rows += area_rows(*NEXT, code=f"QX{i}", name=name)
    at = upload(upload_page(), "=evil.csv", quarterly_csv(rows), "text/csv")
    assert not at.exception
    raw = "\n".join(m.value for m in at.markdown)
    assert "[click](javascript" not in raw  # escaped, so never a link
    assert "<b>" not in raw  # escaped, so never markup
    # every CSV we export neutralises formulas but keeps numbers as numbers
    from core.store import Store, merge_results

    result = at.session_state["upload_parsed"]["result"]
    merged = merge_results(Store(shared_store).load(), [result])[0]
    out = export.to_csv(export.to_long(merged[merged["area_code"].str.startswith("QX")]))
    parsed = list(csv.DictReader(io.StringIO(out)))
    names = {r["area_name"] for r in parsed}
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in names and "'+SUM(1)" in names
    assert "'-2+3" in names and "'@cmd" in names
    assert all(r["numerator"].isdigit() for r in parsed if r["numerator"])
    # Names from the file never pass through Markdown (issue 13, item 7: autolinks, e-mail and
    # setext headings got through the escaping): they are plain text, shown exactly as typed.
    for fragment in ("evil", "javascript", "alarm", "Heading", "SUM(1)"):
        assert fragment not in raw
    shown = "\n".join(t.value for t in at.text)
    for name in evil:
        assert name.replace("\n", " ") in shown.replace("\n", " ") or name in set(
            at.dataframe[0].value["Area"])


def test_cli_and_page_use_the_same_reader(shared_store, tmp_path):
    # An annual CSV without a year in its name: the page asks for the year, the CLI --period.
    data = (b"OrgType,OrgCode,OrgName,VariableType,VariableA,VariableB,Count_FinishedCourseTreatment,"
            b"Count_NotAtCaseness,Count_Recovery\nEngland,All,All,Total,NULL,NULL,1000,50,480\n")
    # The bundled store holds the real annual figures for 2017-18 to 2024-25, so a one-row file
    # for 2024-25 is a cut file: both refuse it with the same words. A year not stored is added.
    path = tmp_path / "annual.csv"
    path.write_bytes(data)
    before = digest(shared_store)
    at = upload(upload_page(), "annual.csv", data, "text/csv")
    assert "which financial year" in errors(at)
    at.get("text_input")[0].set_value("2024-25").run()  # the year box the error brings
    assert "read without problems" in at.success[0].value
    assert "looks cut short" in errors(at) and "covers 1 of the" in errors(at)
    assert cli.main(["ingest", str(path), "--period", "2024-25", "--store", str(shared_store)]) == 2
    assert digest(shared_store) == before
    # the year read is the year used; another year means reading the file again. A year not
    # stored is compared with the nearest stored one (2017-18 here): the one-row file is
    # refused for it too, and a whole year's file is added (the real 2017-18 figures, given
    # as 2016-17; skips without ../shared).
    upload(at, "annual.csv", data, "text/csv")
    assert "which financial year" in errors(at)  # a new uploader, and a new year box
    at.get("text_input")[0].set_value("2016-17").run()
    assert "2016/17 is new to the store" in errors(at) and "for 2017/18" in errors(at)
    whole = annual_csv(annual_frames()["2017-18"], "2017-18")
    path.write_bytes(whole)
    upload(at, "annual.csv", whole, "text/csv")
    at.get("text_input")[0].set_value("2016-17").run()
    assert "read without problems" in at.success[0].value and not at.get("code")
    assert "New periods: 2016/17" in markdown(at)
    assert cli.main(["ingest", str(path), "--period", "2016-17", "--store", str(shared_store)]) == 0


def test_hostile_names_stay_text_on_the_chart_pages(shared_store):
    link = "[click](javascript:alert(1))"
    rows = small_quarter(*NEXT) + area_rows(*NEXT, code="QX9", name=link)
    at = upload(upload_page(), "evil.csv", quarterly_csv(rows), "text/csv")
    at.button(key="apply_session").click().run()
    at.switch_page("pages/trends.py").run()
    at.sidebar.radio(key="w_view").set_value("ICB").run()
    at.sidebar.selectbox(key="w_icb").set_value("QX9").run()
    assert not at.exception
    captions = [c.value for c in at.caption if c.value.startswith("Description:")]
    assert captions and all(link not in c for c in captions)  # escaped, so never a link
    assert any("\\[click\\]" in c for c in captions)  # but shown, as typed
    subheaders = [h.value for h in at.subheader]
    assert all(link not in h for h in subheaders)


# --- memory and temporary files per session ---------------------------------------------------


def test_the_file_is_read_once_per_upload_not_per_rerun(shared_store, monkeypatch):
    """The parse is cached on the upload's id: today's main hashed the whole file (up to 300 MB)
    with SHA-256 on every rerun to find its cache entry."""
    calls = []
    original = readers.read_file
    monkeypatch.setattr(readers, "read_file", lambda *a, **k: calls.append(1) or original(*a, **k))
    data = next_quarter_zip()
    hashed = []
    real_sha = hashlib.sha256

    def sha256(value=b"", *a, **k):
        hashed.append(bytes(value) == data)
        return real_sha(value, *a, **k)

    monkeypatch.setattr(hashlib, "sha256", sha256)
    at = upload(upload_page(), "q.zip", data)
    at.run()
    at.checkbox(key="remove_synthetic").uncheck().run()  # a new preview, not a new read
    assert len(calls) == 1 and not any(hashed)
    upload(at, "q2.zip", next_quarter_zip())  # a new upload (new id): read again
    assert len(calls) == 2


def test_a_read_files_bytes_are_let_go_and_the_uploader_comes_back_on_request(shared_store,
                                                                            monkeypatch):
    """Streamlit holds an upload whole until the session ends: for a 300 MB file that was
    300 MB through the preview and the merge, the upload page's peak (issue 13)."""
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

    managers = []
    original = MemoryUploadedFileManager.remove_file

    held, read = [], []

    def remove_file(self, session_id, file_id):
        managers.append(self)
        held.append(self.file_storage[session_id][file_id].data)
        return original(self, session_id, file_id)

    monkeypatch.setattr(MemoryUploadedFileManager, "remove_file", remove_file)
    real_read = readers.read_file
    monkeypatch.setattr(readers, "read_file",
                        lambda source, *a, **k: read.append(source.getvalue()) or real_read(
                            source, *a, **k))
    at = upload(upload_page(), "q.zip", next_quarter_zip())
    assert "read without problems" in at.success[0].value
    assert managers and not any(any(s.values()) for s in managers[0].file_storage.values())
    # read from the uploader's own bytes, not from the copy drawing the widget makes
    assert len(read) == 1 and read[0] is held[0]
    assert "upload_file" not in {u.key for u in at.get("file_uploader")}
    assert "File: q.zip" in markdown(at)
    at.button(key="apply_session").click().run()  # the read rows are all it needs
    assert not at.exception and any("Includes your upload" in i.value for i in at.info)
    # used: the preview (of the file against itself now) goes, the next upload is offered,
    # and the session's merged data is a download beside "Stop using my upload"
    assert len(at.get("file_uploader")) == 1 and not at.get("dataframe")
    assert "Periods from your upload: 2026/27 Q2" in markdown(at)
    assert "dl_session_parquet" in {b.key for b in at.get("download_button")}

    # a file with an error: its uploader gives way too, and the button brings it back
    at.get("file_uploader")[0].upload("empty.csv", b"", "text/csv").run()
    assert "the file is empty" in errors(at) and not at.get("file_uploader")
    assert not at.get("text_input")  # no year cures this one, so no copy is kept
    assert at.session_state["upload_parsed"]["retry"] is None
    at.button(key="upload_another").click().run()
    assert len(at.get("file_uploader")) == 1


def test_the_next_file_gets_its_own_remove_the_sample_box(shared_store):
    """A review found the box kept from the last file showing its own default (unticked)
    while the preview, and so the Parquet download, still removed the synthetic sample."""
    at = upload(upload_page(), "q.zip", next_quarter_zip())
    assert at.get("checkbox")[0].value is True  # suggested with the first real quarter
    annual = (b"OrgType,OrgCode,OrgName,VariableType,VariableA,VariableB,"
              b"Count_FinishedCourseTreatment,Count_NotAtCaseness,Count_Recovery\n"
              b"England,All,All,Total,NULL,NULL,1000,50,480\n")
    upload(at, "annual_2016-17.csv", annual, "text/csv")
    assert "read without problems" in at.success[0].value
    assert at.get("checkbox")[0].value is False
    assert "Synthetic sample rows removed" not in markdown(at)


def test_session_folders_are_deleted_when_replaced_or_discarded(shared_store):
    """Today's main: ``nhstt-session-*`` folders were never deleted."""
    at = upload(upload_page(), "q.zip", next_quarter_zip())
    at.button(key="apply_session").click().run()
    first = Path(at.session_state["session_store_path"]).parent
    assert first.name.startswith("nhstt-session-") and first.is_dir()
    upload(at, "q.zip", next_quarter_zip())  # the page offers the next upload
    at.button(key="apply_session").click().run()  # a new apply replaces the old folder
    second = Path(at.session_state["session_store_path"]).parent
    assert second != first and second.is_dir() and not first.exists()
    at.button(key="discard_session").click().run()
    assert not second.exists()


def test_a_session_folder_goes_when_its_session_state_goes():
    import gc

    from core.uploads import SessionFolder

    state = {"session_folder": SessionFolder()}
    path = state["session_folder"].path
    state["session_folder"].store_path.write_bytes(b"x")
    del state  # Streamlit drops a session's state when the session ends
    gc.collect()
    assert not path.exists()


def test_the_page_offers_saving_for_everyone_only_where_it_is_switched_on(shared_store):
    """Without an upload password in the secrets the page must not say a maintainer can save
    an upload here (review): only the download, and why."""
    def words(at) -> str:
        return " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)

    off = words(upload_page())
    assert "save it below" not in off and "data/recovery.parquet" in off
    assert "save it below with the upload password" in words(
        upload_page({"upload_password": "s3cret"}))


def test_garbage_is_collected_at_a_quiet_moment_after_a_run(monkeypatch):
    """Streamlit's collection after every run is off (a change waited for it); each run has
    the app collect in the background once no run has started or ended for a moment
    (``ui.data.collect_soon``), so a closed session's upload folder, held in a reference
    cycle as session state is, still goes."""
    import time
    import tomllib

    from core.uploads import SessionFolder
    from tests.conftest import ROOT
    from ui import data

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
    monkeypatch.setattr(data, "COLLECT_AFTER", 1.0)
    data._collector = None
    # The cycle is made before the run, with Python's own collection off: on a slow machine
    # the collector once fired before a cycle made after the run existed (a CI flake).
    # gc.collect, which the collector calls, works whether or not it is off.
    import gc
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        state = {"session_folder": SessionFolder()}
        state["self"] = state  # a cycle: only the collector frees it
        path = state["session_folder"].path
        del state
        assert path.exists()
        app().run()
        pending = data._collector
        assert pending is not None and pending.name == "collect-garbage"
        pending.join(30)
    finally:
        if was_enabled:
            gc.enable()
    assert not pending.is_alive() and not path.exists()
    assert time.monotonic() - data._last_activity >= 1.0  # not before the quiet second


# --- a broken store never takes the app down (issue 13, item 3) ---------------------------------

PAGES = ["pages/trends.py", "pages/compare.py", "pages/inequalities.py", "pages/about.py",
         "pages/upload.py"]


def _future(path: Path) -> None:
    import pyarrow.parquet as pq

    from core import store as store_mod

    table = pq.read_table(path)
    meta = {**(table.schema.metadata or {}), store_mod.SCHEMA_KEY: b"99"}
    pq.write_table(table.replace_schema_metadata(meta), path)


def _bad_log(path: Path) -> None:
    import pyarrow.parquet as pq

    from core import store as store_mod

    table = pq.read_table(path)
    meta = {**(table.schema.metadata or {}), store_mod.LOG_KEY: b'[{"loaded_at": 5}]'}
    pq.write_table(table.replace_schema_metadata(meta), path)


BREAKS = {
    "garbage": (lambda p: p.write_bytes(b"not a parquet file at all" * 100), "damaged"),
    "cut short": (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "damaged"),
    "empty": (lambda p: p.write_bytes(b""), "damaged"),
    "newer format": (_future, "newer version of this tool"),
    "bad log entry": (_bad_log, "load log is damaged"),
}


def broken_store(shared_store: Path, how: str) -> str:
    """Record the good store as a version (any write does), then damage the store file."""
    from core.store import Store

    Store(shared_store).recover()
    good = digest(shared_store)
    BREAKS[how][0](shared_store)
    return good


@pytest.mark.parametrize("how", list(BREAKS))
@pytest.mark.parametrize("page_file", PAGES)
def test_a_broken_store_gives_every_page_a_plain_message(shared_store, how, page_file):
    from tests.app.conftest import all_text

    broken_store(shared_store, how)
    at = app()
    at.run()
    assert not at.exception, at.exception  # the entry point itself no longer raises
    at.switch_page(page_file).run()
    assert not at.exception, at.exception
    text = all_text(at)
    assert "cannot be read" in text and "restore" in text and "previous version" in text or (
        page_file.endswith("upload.py") and "last good version" in text), text
    assert BREAKS[how][1] in text, text
    assert str(shared_store.parent) not in text and "Traceback" not in text
    assert "/tmp" not in text and "/work" not in text  # no server path anywhere
    assert not at.get("vega_lite_chart") and not at.metric


def test_a_maintainer_restores_the_last_good_version_from_the_upload_page(shared_store):
    good = broken_store(shared_store, "garbage")
    at = upload_page()
    assert "cannot be read" in errors(at)
    assert not any(b.key == "restore_good" for b in at.get("button"))  # no password set
    at = upload_page({"upload_password": "s3cret"})
    at.text_input(key="upload_password").set_value("s3cret").run()
    at.button(key="restore_good").click().run()
    assert not at.exception, at.exception
    assert digest(shared_store) == good
    assert any("every page works again" in s.value for s in at.success)
    assert at.file_uploader(key="upload_file")  # the page works again, uploads included
    at.switch_page("pages/trends.py").run()
    assert not at.exception and at.metric[0].label == "Recovery rate, 2024/25"  # the published year opens first


def test_a_broken_session_upload_can_be_dropped(shared_store):
    at = upload(upload_page(), "q.zip", next_quarter_zip())
    at.button(key="apply_session").click().run()
    own = Path(at.session_state["session_store_path"])
    own.write_bytes(b"garbage")
    at.switch_page("pages/trends.py").run()
    assert not at.exception and "cannot be read" in errors(at)
    at.switch_page("pages/upload.py").run()
    at.button(key="discard_broken").click().run()
    assert not at.exception and not own.exists()
    at.switch_page("pages/trends.py").run()
    assert at.metric[0].label == "Recovery rate, 2024/25"  # the published year opens first


def test_a_sessions_merged_store_does_not_outlive_the_session(shared_store):
    """Today's main cached each session's merged store in the cache every session shares, so a
    closed session's store stayed in memory (about 60 MB each on a real server)."""
    import gc
    import weakref

    at = upload(upload_page(), "q.zip", next_quarter_zip())
    at.button(key="apply_session").click().run()
    at.switch_page("pages/trends.py").run()
    assert at.metric[0].label == "Recovery rate, 2026/27 Q2"
    # This session's, in its own state (with its own views of the ICB boundaries). Followed by
    # a weak reference: a store another test saved for everyone may also hold 2026/27 Q2, and
    # may be held a while by the background preparation.
    own = at.session_state["_session_explorer"][1]
    assert "2026/27 Q2" in set(own.frame["period"].unique())
    own.in_boundaries("2026")
    mine = [weakref.ref(own), *(weakref.ref(e) for e in own.__dict__["_by_boundaries"].values())]
    del own
    folder = Path(at.session_state["session_store_path"]).parent
    del at  # the session closes: its state goes
    # Streamlit leaves the last script run's globals in sys.modules["__main__"] until the next
    # run, whichever session makes it: another session's run.
    app().run()
    gc.collect()
    assert [ref() for ref in mine] == [None] * len(mine) and not folder.exists()


def test_displayed_tables_hold_neutralised_text(shared_store):
    """The table toolbar's own "Download as CSV" exports what the table displays: that text is
    neutralised like every other export (today's main exported ``=cmd|' /C calc'!A0`` raw)."""
    evil = "=cmd|' /C calc'!A0"
    rows = small_quarter(*NEXT) + area_rows(*NEXT, code="QX9", name=evil)
    at = upload(upload_page(), "evil.csv", quarterly_csv(rows), "text/csv")
    areas = set(at.dataframe[0].value["Area"])
    assert "'" + evil in areas and evil not in areas
    at.button(key="apply_session").click().run()
    at.switch_page("pages/trends.py").run()
    at.sidebar.radio(key="w_view").set_value("ICB").run()
    at.sidebar.selectbox(key="w_icb").set_value("QX9").run()
    assert not at.exception
    shown = [v for d in at.dataframe for c in d.value.columns for v in d.value[c].dropna()
             if isinstance(v, str)]
    assert "'" + evil in shown
    assert not any(isinstance(v, str) and v.startswith(export.FORMULA_PREFIXES) for v in shown)


def test_neutral_leaves_numbers_and_plain_tables_alone():
    import pyarrow as pa

    from ui.render import neutral

    plain_table = pa.table({"Area": ["England", "North"], "Rate": [-1.5, 2.0]})
    checked = neutral(plain_table)
    assert checked.equals(plain_table)
    assert neutral(checked) is checked  # marked as checked: not checked again on a rerun
    risky = pa.table({"Area": ["=1+1", "+x", "ok", None, "@a", "-2"], "n": [-1, 2, 3, 4, 5, 6]})
    out = neutral(risky)
    assert out.column("Area").to_pylist() == ["'=1+1", "'+x", "ok", None, "'@a", "'-2"]
    assert out.column("n").to_pylist() == [-1, 2, 3, 4, 5, 6] and out.schema == risky.schema
    import pandas as pd

    for dtype in ("str", object):  # pandas' text dtype as well as plain objects
        frame = pd.DataFrame({"Area": pd.Series(["=1", "a", None], dtype=dtype), "n": [-1, 2, 3]})
        out = neutral(frame)
        assert out["Area"].tolist()[:2] == ["'=1", "a"] and out["n"].tolist() == [-1, 2, 3]
        assert neutral(frame[1:]) is not None and frame["Area"].tolist()[0] == "=1"
    large = pa.table({"Area": pa.array(["=1", "a"], pa.large_string())})
    assert neutral(large).column("Area").to_pylist() == ["'=1", "a"]
    for coded in (pa.array(["=1", "a"]).dictionary_encode(), pa.array(["=1", "a"], pa.string_view())):
        assert neutral(pa.table({"Area": coded})).column("Area").to_pylist() == ["'=1", "a"]


# --- the preview follows the file (issue 9) and fits the screen (issue 12, item 9) -----------


def _preview_chart(at) -> tuple[dict, list[str], list[str]]:
    """The preview chart's spec, the periods it draws and the periods it highlights."""
    spec, frames = chart_specs(at)[0]
    return spec, frames["trend"]["period"].tolist(), frames["highlight"]["period"].tolist()


def test_preview_chart_follows_the_files_period_type(shared_store):
    """An annual file previews financial years, with its year highlighted; a quarterly file
    previews quarters. (Today's main drew quarters for every file, so an annual file's new
    year was not on the chart at all.)"""
    # The real 2017-18 figures given as 2016-17 (a one-row file is refused as cut short
    # against the nearest stored year; skips without ../shared).
    annual = annual_csv(annual_frames()["2017-18"], "2017-18")
    at = upload(upload_page(), "annual.csv", annual, "text/csv")
    at.get("text_input")[0].set_value("2016-17").run()
    assert "read without problems" in at.success[0].value
    spec, drawn, highlighted = _preview_chart(at)
    assert highlighted == ["2016/17"]
    assert "2016/17" in drawn and "2024/25" in drawn
    assert not any(" Q" in p for p in drawn)  # financial years only
    assert "by financial year" in json.dumps(spec["title"])
    assert "Year" in at.dataframe[0].value.columns and "Quarter" not in at.dataframe[0].value
    assert any("uploaded financial years" in c.value for c in at.caption)
    # like every chart, with its table, a CSV and a text alternative (a helper's review
    # found the one chart without them)
    said = [c.value.replace("\\", "") for c in at.caption
            if c.value.startswith("Description: ")]
    assert said and said[-1].startswith("Description: England recovery rate by financial "
                                        "year with this file, the uploaded financial years "
                                        "highlighted (2016/17)")
    assert at.get("download_button") and any(
        b.proto.label == "Download data (CSV)" for b in at.get("download_button"))
    assert "Period" in at.dataframe[-1].value.columns

    at = upload(upload_page(), "nhstalkingtherapies_quarterly_data_q2_26_27.zip",
                next_quarter_zip())
    spec, drawn, highlighted = _preview_chart(at)
    assert highlighted == ["2026/27 Q2"]
    assert drawn and all(" Q" in p for p in drawn)  # quarters only
    assert "by quarter" in json.dumps(spec["title"])
    # the synthetic sample is removed (pre-ticked for a first real quarter): the chart and
    # its text alternative show published figures only, and do not call them synthetic
    said = [c.value for c in at.caption if c.value.startswith("Description: ")]
    assert "ynthetic" not in said[-1] and "SYNTHETIC" not in json.dumps(spec)
    assert "Quarter" in at.dataframe[0].value.columns


#: The main column's width at 1400 px with the sidebar open, measured in Chromium
#: (tests/browser/test_upload_browser.py measures the table itself against it).
MAIN_AT_1400 = 938


def test_preview_table_short_names_changed_figures_first_and_fits(shared_store):
    rows = small_quarter(*NEXT) + area_rows(
        *NEXT, code="QHL", name="NHS BIRMINGHAM AND SOLIHULL INTEGRATED CARE BOARD",
        finished="3000", nac="150", recovered="1500", reliable="1400", pct="52.6")
    at = upload(upload_page(), "q.csv", quarterly_csv(rows), "text/csv")
    table = at.dataframe[0]
    frame = table.value
    columns = list(frame.columns)
    assert columns[:3] == ["Before (%)", "After (%)", "Change (pts)"]
    assert columns[3] == "Area" and columns[-1] == "Full name (code)"
    birmingham = frame[frame["Area"] == "Birmingham and Solihull"]
    assert len(birmingham) == 1
    assert birmingham["Full name (code)"].item() == (
        "NHS Birmingham and Solihull Integrated Care Board (QHL)")
    assert birmingham["After (%)"].item() == pytest.approx(100 * 1500 / 2850, abs=0.005)
    assert not frame["Area"].str.contains("INTEGRATED CARE BOARD|Integrated Care Board").any()
    assert set(frame["Population"]) <= {"Whole population", "BAME"}
    # Every column has a width, and together they fit the main column at 1400 px.
    config = json.loads(table.proto.columns)
    widths = {c: config.get(c, {}).get("width") for c in columns}
    assert all(isinstance(w, int) for w in widths.values()), widths
    assert sum(widths.values()) <= MAIN_AT_1400, widths


def test_about_load_log_table_neutralises_formula_file_names(shared_store):
    """The About page's "What was loaded, and when" table shows file names from uploads: a
    name such as ``=cmd|' /C calc'!A0`` must reach the table (and so its toolbar's own CSV
    download) as text, prefixed with an apostrophe, in every column it appears in."""
    from core.merge import MergeReport
    from core.store import Store, log_entry, to_parquet_bytes

    evil = "=cmd|' /C calc'!A0"
    store = Store(shared_store)
    report = MergeReport(sources=[evil], periods_added=["@SUM(1+1)"], added=1)
    entry = log_entry(report, synthetic=False) | {"credit": "+HYPERLINK(\"http://x\")"}
    shared_store.write_bytes(to_parquet_bytes(store.load(), [*store.log(), entry]))
    at = app()
    at.run()
    at.switch_page("pages/about.py").run()
    assert not at.exception, at.exception
    logs = [d.value for d in at.dataframe if "Rows added" in d.value.columns]
    assert len(logs) == 1
    log = logs[0]
    assert log["Files"].iloc[0] == "'" + evil  # newest entry first
    assert log["New periods"].iloc[0] == "'@SUM(1+1)"
    assert log["Credit"].iloc[0] == "'+HYPERLINK(\"http://x\")"
    shown = [v for c in log.columns for v in log[c].dropna() if isinstance(v, str)]
    assert not any(v.startswith(export.FORMULA_PREFIXES) for v in shown)
    # The other entries (the bundled store's own loads) are shown as they are.
    assert any(v.startswith("psych-ther-ann-") for v in log["Files"])


def test_a_figure_that_jumped_on_a_year_earlier_is_cautioned_before_saving(tmp_path,
                                                                            monkeypatch):
    """A file whose ICB figures changed too sharply on the same quarter a year before
    (``core.unusual``) is loaded as published, but the maintainer is told which, before
    saving: a submission error caught where it enters. The store holds a real (test) 2024/25
    Q3; the file is 2025/26 Q3 with one ICB's count tripled. The bundled synthetic sample's
    figures are never compared (their jumps are the generator's)."""
    import contextlib
    import io

    earlier = tmp_path / "q3_24_25.csv"
    earlier.write_bytes(quarterly_csv(small_quarter("2024-10-01", "2024-12-31")))
    path = tmp_path / "recovery.parquet"
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["ingest", str(earlier), "--store", str(path)]) == 0
    monkeypatch.setattr(model, "DEFAULT_STORE", path)
    rows = small_quarter()
    for row in rows:  # QHM's whole population: three times as many finished treatment
        if row[2] == "QHM" and row[4] == "All_SubICB" and row[9] == "Total" and row[12] == "M076":
            row[14] = "3000"
    at = upload_page()
    upload(at, "q.csv", quarterly_csv(rows), "text/csv")
    warned = [plain(w.value) for w in at.warning if "Treat with care" in w.value]
    assert len(warned) == 1
    assert ("NHS North East and North Cumbria ICB, Whole population, 2025/26 Q3, on 2024/25 "
            "Q3: 950 → 2,950 people at caseness (×3.1)") in warned[0], warned[0]
    assert "South Yorkshire" not in warned[0]  # unchanged on the year: not cautioned


def test_a_file_beside_the_synthetic_sample_is_not_compared_with_it(shared_store):  # noqa: F811
    """Kept beside the bundled sample, the small test quarter's ICBs are a tenth of the
    sample's a year before: the sample is made up, so nothing is said."""
    at = upload_page()
    upload(at, "q.csv", quarterly_csv(small_quarter("2026-07-01", "2026-09-30")), "text/csv")
    at.checkbox(key="remove_synthetic").uncheck().run()
    assert not at.exception
    assert not [w for w in at.warning if "Treat with care" in w.value]
