"""Upload data: check a published file, preview it, use it in this session, or save it.

The page only calls ``core`` and renders. Names and messages that come from a file are shown
with ``st.text``/``st.code``/tables, never through Markdown, so they always show as typed.
"""

import hmac
import os
from pathlib import Path

import streamlit as st

from core import charts, explore, export, model, preview, readers, store
from core.errors import InputError, YearError
from core.uploads import SessionFolder
from ui import data, page, render

ss = st.session_state
ctx = page.start("Upload data", needs_quarters=False, repairs=True)
source = ctx.source
shared = store.Store(model.DEFAULT_STORE)


def upload_secret() -> str | None:
    """The maintainers' password from the deployment's secrets (None: saving is off)."""
    try:
        return st.secrets.get("upload_password") or None
    except Exception:  # no secrets file at all
        return None


def password_ok() -> bool | None:
    """The maintainers' password box: whether it holds the password (None, with a note, when
    saving is switched off)."""
    secret = upload_secret()
    if not secret:
        st.caption(
            "Saving for everyone is switched off: no `upload_password` is set in this "
            "deployment's secrets. On Streamlit Community Cloud the disk does not survive a "
            "restart, so the way to update the app's data that keeps a record is to "
            "download the merged data above and put it in place of `data/recovery.parquet` in "
            "the app's code repository."
        )
        return None
    password = st.text_input("Upload password", type="password", key="upload_password")
    allowed = bool(password) and hmac.compare_digest(password.encode(), str(secret).encode())
    if password and not allowed:
        st.error("That password is not right.")
    return allowed


def moved(action, done: str) -> None:
    try:
        result = action()
    except InputError as exc:
        st.error("The shared data could not be moved to another version. Nothing was changed.")
        st.code(page.plain_problem(str(exc)), language=None, wrap_lines=True)
        return
    st.success(done)
    if result.skipped:
        st.warning("Damaged versions were passed over:")
        st.code(page.plain_problem("\n".join(result.skipped)), language=None, wrap_lines=True)


notice = ss.pop("_moved_notice", None)  # what the restore below did, kept over its rerun
if notice:
    st.success(notice["done"])
    if notice["skipped"]:
        st.warning("Damaged versions were passed over:")
        st.code("\n".join(notice["skipped"]), language=None, wrap_lines=True)

if ctx.problem is not None:
    # A broken store must not take this page down: it is where a maintainer repairs it.
    st.error("The stored data cannot be read, so uploads are switched off until it is repaired. "
             "A maintainer can restore the last good version below, or run "
             "`python -m core restore`.", icon=":material/error:")
    st.text(f"What is wrong: {ctx.problem}")
    if source.session_upload:
        if st.button("Stop using my upload", key="discard_broken"):
            data.drop_session_store()
            folder = ss.pop("session_folder", None)
            if folder is not None:
                folder.close()
            st.rerun()
        st.stop()
    if password_ok() and st.button("Restore the last good version", key="restore_good",
                                   type="primary"):
        try:
            result = shared.undo()
        except InputError as exc:
            st.error("No good version could be restored. Nothing was changed.")
            st.code(page.plain_problem(str(exc)), language=None, wrap_lines=True)
        else:
            ss["_moved_notice"] = {
                "skipped": [page.plain_problem(x) for x in result.skipped],
                "done": f"Version {result.version} of the shared data is back: every page "
                        "works again."}
            st.rerun()
    st.stop()

stored = ctx.explorer.frame

st.markdown(
    "Add a quarter by uploading the file NHS England publishes: the **quarterly zip**, the "
    "**ICB/sub-ICB CSV** inside it, or an **annual CSV**. The file is checked and previewed "
    "before anything changes. *Use for this session* shows it on every page for you alone, "
    "**until you reload the page or close the tab**: a reload starts a new session without it. "
    "To keep it for everyone, "
    + ("a maintainer can save it below with the upload password, or " if upload_secret()
       else "")
    + "download the merged data (a Parquet file) and put it in place of "
    "`data/recovery.parquet` in the app's code repository (README, *Deploying on Streamlit "
    "Community Cloud*)."
)

if source.session_upload:
    st.success("Your session includes your upload. Every page uses it; nobody else sees it. "
               "It is gone when you reload the page: download the merged data to keep it.")
    st.text(f"Periods from your upload: {', '.join(ss.get('upload_applied', []))}")
    keep, stop = st.columns(2)
    keep.download_button(
        "Merged data (Parquet)", lambda: Path(source.path).read_bytes(),
        file_name="recovery.parquet", mime="application/octet-stream", key="dl_session_parquet",
        on_click="ignore", help="This session's data, your upload merged in. To update the "
        "site, put it in place of data/recovery.parquet in the app's code repository.")
    if stop.button("Stop using my upload", key="discard_session"):
        data.drop_session_store()
        ss.pop("upload_applied", None)
        folder = ss.pop("session_folder", None)
        if folder is not None:
            folder.close()
        st.rerun()



def read(upload, name: str, year: str) -> dict:
    """Read and check the file; what the rest of the page needs from it, or its error."""
    with st.spinner("Reading and checking the file…"):
        try:
            result = readers.read_file(upload, name, period=year or None)
        except InputError as exc:
            # The file is kept (one copy) only for an error a year may cure: the page asks
            # for the year and reads it again.
            return {"error": str(exc), "year": year, "name": name, "size": upload.size,
                    "retry": upload if isinstance(exc, YearError) else None}
    return {"result": result, "error": None, "year": year, "base": None, "name": name,
            "size": upload.size, "retry": None,
            "suggest": store.suggest_removing_sample(stored, [result])}


def take(upload, year: str, key: str) -> None:
    """Read a file the uploader just got, once, then let Streamlit's bytes of it go: the page
    keeps what it read, and the uploader gives way to the file's name (issue 13's 1 GB)."""
    data.release_upload(upload.file_id)
    ss.pop(key, None)  # the widget's own reference to the file
    ss["upload_parsed"] = read(upload, os.path.basename(upload.name)[:200], year.strip())
    st.rerun()


round_ = ss.get("upload_round", 0)
parsed = ss.get("upload_parsed")
if parsed is None:
    uploader_key = "upload_file" if not round_ else f"upload_file_{round_}"
    year_key = "upload_year" if not round_ else f"upload_year_{round_}"
    # A file just given to the uploader is read here, before the widget is drawn: drawing it
    # returns a deep copy of the file (Streamlit copies every widget's value), which for a
    # 300 MB file was 300 MB more at the page's peak (issue 13's 1 GB).
    held = ss.get(uploader_key)
    if getattr(held, "file_id", None) and getattr(held, "size", 0) <= readers.MAX_UPLOAD_BYTES:
        take(held, str(ss.get(year_key) or ""), uploader_key)
    uploaded = st.file_uploader(
        "Published file (.zip or .csv)", type=["zip", "csv"], key=uploader_key,
        help=f"Up to {readers.MAX_UPLOAD_MB} MB.",
    )
    year = st.text_input(
        "Financial year of an annual CSV (only if its file name does not say)",
        key=year_key, placeholder="2025-26", max_chars=7,
    )
    if uploaded is None:
        st.stop()
    name = os.path.basename(uploaded.name)[:200]
    if uploaded.size > readers.MAX_UPLOAD_BYTES:
        st.error(f"The file is {uploaded.size / 1000**2:,.0f} MB, over the "
                 f"{readers.MAX_UPLOAD_MB} MB limit. Nothing was changed.")
        st.text(name)
        st.stop()
    take(uploaded, year, uploader_key)  # only if the session state did not have it above

size = parsed["size"]
st.text(f"File: {parsed['name']} ("
        + (f"{size / 1000**2:,.1f} MB)" if size >= 1000**2 else f"{-(-size // 1000):,} KB)"))  # rounded up: never "0 KB"
if parsed["error"]:
    st.error("This file cannot be used. Nothing was changed: the stored data and this "
             "session's data are as they were.", icon=":material/error:")
    st.code(parsed["error"], language=None, wrap_lines=True)
if parsed["retry"] is not None:
    # A year cures this error: ask for it here, under the message, and read the kept file
    # again (the command line's --period is this box).
    year = st.text_input(
        "Financial year of this annual CSV (its file name does not say)",
        key=f"retry_year_{round_}", placeholder="2025-26", max_chars=7,
        help="The year the file covers, for example 2024-25: the file is then read again.")
    if year.strip() and year.strip() != parsed["year"]:
        ss["upload_parsed"] = read(parsed["retry"], parsed["name"], year.strip())
        st.rerun()
if st.button("Upload a different file", key="upload_another"):
    ss.pop("upload_parsed", None)  # the last file's rows, and any kept copy of it, go
    # A new uploader (a new key), so nothing of the old one comes back with it.
    ss["upload_round"] = round_ + 1
    st.rerun()
if parsed["error"]:
    st.stop()

result = parsed["result"]
remove_sample = False
if bool(stored["synthetic"].any()) if len(stored) else False:
    remove_sample = st.checkbox(
        "Remove the synthetic sample (suggested with the first real quarterly file)",
        # One box per file (a new key each "Upload a different file"): a box kept from the
        # last file showed its own default while the preview used the last file's choice.
        value=parsed["suggest"], key="remove_synthetic" if not round_ else
        f"remove_synthetic_{round_}",
        help="The bundled data is made up. Tick this so the merged data holds published "
        "figures only.")
base = f"{source.path}|{source.mtime}|{remove_sample}"
if parsed["base"] != base:
    pv = preview.preview(stored, [result], remove_synthetic=remove_sample)
    parsed.update(base=base, preview=pv)
pv = parsed["preview"]
report = pv.report
if pv.short:
    st.warning(pv.short, icon=":material/warning:")


def merged_store():
    """The whole store with the upload merged in: built only when it is used."""
    return store.merge_results(stored, [result], remove_synthetic=remove_sample)[0]


def merged_bytes(merged=None) -> bytes:
    log = data.log(source.path, source.mtime) + [
        store.log_entry(report, synthetic=False)]
    return store.to_parquet_bytes(merged_store() if merged is None else merged, log)


st.header("1. Check", anchor=False)
st.success("The file was read without problems.", icon=":material/check_circle:")
st.text("\n".join(result.summary()))
for warning in result.layout_warnings:
    st.warning(render.md(warning), icon=":material/warning:")
# Unknown area codes (kept, named: core.geography). Many (a new geography's sub-ICB
# locations) are one box with the list in it, not a box each.
codes = result.code_warnings
if not result.codes_in_one():
    for warning in codes:
        st.warning(render.md(warning), icon=":material/warning:")
else:
    st.warning(render.md(result.codes_in_one()), icon=":material/warning:")
    with st.expander(f"The {len(codes):,} unknown codes"):
        # Plain text: names from a file never pass through Markdown.
        st.text("\n".join(result.unknown_code_names))

# Figures that changed too sharply on a year earlier (core.unusual): loaded as published,
# but the maintainer is told before saving, as every view will tell its readers.
if pv.unusual:
    render.cautions(pv.unusual)

st.header("2. Preview", anchor=False)
if report.changes_nothing:
    st.info("**This file changes nothing:** every row of it is already stored with these "
            "values (was it loaded before?).", icon=":material/info:")
st.text("\n".join(report.lines()))


def show_coverage() -> None:
    st.caption("What the file covers against what the store holds, per period: areas, "
               "population groups, and area-and-group rows.")
    render.dataframe(pv.coverage[["period", "areas_file", "areas_store", "groups_file",
                                  "groups_store", "rows_covered", "rows_store"]].rename(columns={
        "period": "Period", "areas_file": "Areas in file", "areas_store": "Areas stored",
        "groups_file": "Groups in file", "groups_store": "Groups stored",
        "rows_covered": "Stored rows covered", "rows_store": "Rows stored"}),
        key="upload_coverage")


if pv.cut:
    st.error("This file looks cut short or blanked, so it cannot be used. Nothing was changed.",
             icon=":material/error:")
    st.code(pv.cut, language=None, wrap_lines=True)
    show_coverage()
    st.stop()

st.caption("Recovery rates for England and every ICB whose value this file adds or changes "
           "(whole population and BAME), before and after. Areas by their short name; the "
           "full name as published, with the area code, is the last column.")
# Widths that fit the main column at 1400 px with the sidebar open (938 px), so no column
# is behind a horizontal scroll (a browser test measures it).
_NUMBER, _TEXT = st.column_config.NumberColumn, st.column_config.TextColumn
render.dataframe(
    preview.changes_table(pv.changes, pv.kind),
    key="upload_changes",
    column_config={
        "Before (%)": _NUMBER(width=80, format="%.2f", help="Recovery rate stored now; – "
                              "where the store has none"),
        "After (%)": _NUMBER(width=72, format="%.2f", help="Recovery rate with this file"),
        "Change (pts)": _NUMBER(width=96, format="%+.2f", help="After minus before, in "
                                "percentage points"),
        "Area": _TEXT(width=210, help="Short name; the full name is in the last column"),
        "Population": _TEXT(width=112),
        "Quarter" if pv.kind == "quarter" else "Year": _TEXT(width=82),
        "Recovered": _NUMBER(width=78, format="localized"),
        "Denominator": _NUMBER(width=92, format="localized",
                               help="Finished a course of treatment, at caseness at the start"),
        "Full name (code)": _TEXT(width=110, help="The name as published, and the area code"),
    },
)
show_coverage()
new_periods = report.periods_added + report.periods_replaced
england = pv.england
keys = [explore.SeriesKey("England", "ENG", "Total"), explore.SeriesKey("England", "ENG", "BME")]
# The chart follows the file's period type: an annual file's new year is a financial year.
domain = (explore.year_domain if pv.kind == "year" else explore.quarter_domain)(england)
trend = explore.Explorer(england).trend(keys, domain=domain, kind=pv.kind)
if not trend.empty:
    unit = "financial years" if pv.kind == "year" else "quarters"
    table = explore.trend_table(trend)
    render.chart_block(
        charts.trend_spec(
            trend, domain=domain, show_ci=False,
            synthetic=bool(england["synthetic"].any()), highlight=new_periods, frames=True),
        table=table, csv=table.to_pandas(), name="England after this file",
        description=f"England recovery rate by {unit[:-1]} with this file, the uploaded "
        f"{unit} highlighted ({', '.join(new_periods)}). " + explore.describe_trend(trend),
        note=f"Shaded: the uploaded {unit} ({', '.join(new_periods)}).")

st.header("3. Use it", anchor=False)
c1, c2, c3 = st.columns(3)
if c1.button("Use for this session", type="primary", key="apply_session",
             help="Only you see it, until you reload the page or close the tab."):
    old = ss.pop("session_folder", None)
    folder = SessionFolder()
    merged = merged_store()
    store.atomic_write(folder.store_path, merged_bytes(merged))
    ss["session_folder"] = folder
    data.use_session_store(str(folder.store_path), merged)
    del merged
    ss["upload_applied"] = list(dict.fromkeys([*ss.get("upload_applied", []), *new_periods]))
    if old is not None:
        old.close()  # the upload this one replaces
    # The file is used: its preview (now of the file against itself) goes, and the page
    # offers the next upload; the session's merged data is downloadable above.
    ss.pop("upload_parsed", None)
    ss["upload_round"] = round_ + 1
    st.rerun()
c2.download_button(
    "Merged data (Parquet)", lambda: merged_bytes(),
    file_name="recovery.parquet", mime="application/octet-stream", key="dl_parquet",
    on_click="ignore", help="Commit this as data/recovery.parquet to update a deployment.",
)
c3.download_button(
    "Merged data (tidy CSV)", lambda: export.to_csv(export.to_long(merged_store())),
    file_name="recovery_tidy.csv", mime="text/csv", key="dl_tidy", on_click="ignore",
)

st.header("4. Save for everyone (maintainers)", anchor=False)
allowed = password_ok()
if allowed is None:
    st.stop()
s1, s2, s3 = st.columns(3)
if s1.button("Save for everyone", disabled=not allowed, key="save_shared", type="primary"):
    try:
        saved = shared.add([result], remove_synthetic=remove_sample)
        if saved.changes_nothing:
            st.info("Nothing to save: the shared data already holds every row of this file "
                    "with the same values. No new version was made.", icon=":material/info:")
        else:
            st.success("Saved as a new version. Undo moves back one version.")
            st.text("\n".join(saved.lines()))
    except InputError as exc:
        st.error("The shared data was not changed.")
        st.code(str(exc), language=None, wrap_lines=True)
if s2.button("Undo last save", disabled=not (allowed and shared.can_undo()),
             key="undo_shared",
             help="Moves the shared data back one version; press again to go further back."):
    moved(shared.undo, "The previous version of the shared data is back.")
if s3.button("Redo", disabled=not allowed, key="redo_shared", help="Moves forward again after an undo."):
    moved(shared.redo, "The shared data moved forward one version.")
