"""Upload data: check a published file, preview it, use it in this session, or save it."""

import hashlib
import hmac
import os
import tempfile

import streamlit as st

from core import charts, explore, export, model, preview, readers, store
from core.errors import InputError
from ui import data, page, render

ss = st.session_state
ctx = page.start("Upload data", needs_quarters=False)
source = ctx.source

st.markdown(
    "Add a quarter by uploading the file NHS England publishes: the **quarterly zip**, the "
    "**ICB/sub-ICB CSV** inside it, or an **annual CSV**. The file is checked and previewed "
    "before anything changes. *Use for this session* shows it on every page for you alone; "
    "maintainers can then download the merged data to commit to the deployment's `data/` "
    "folder, or save it for everyone."
)

if source.session_upload:
    st.success(f"Your session includes your upload ({render.md(ss.get('upload_applied', ''))}). "
               "Every page uses it; nobody else sees it.")
    if st.button("Stop using my upload", key="discard_session"):
        ss.pop(data.UPLOAD_KEY, None)
        ss.pop("upload_applied", None)
        st.rerun()

uploaded = st.file_uploader(
    "Published file (.zip or .csv)", type=["zip", "csv"], key="upload_file",
    help=f"Up to {readers.MAX_UPLOAD_BYTES // 1024**2} MB.",
)
year = st.text_input(
    "Financial year of an annual CSV (only if its file name does not say)", key="upload_year",
    placeholder="2025-26", max_chars=7,
)
if uploaded is None:
    st.stop()

raw = uploaded.getvalue()
name = os.path.basename(uploaded.name)[:200]
if len(raw) > readers.MAX_UPLOAD_BYTES:
    st.error(f"{render.md(name)}: the file is {len(raw) / 1024**2:,.0f} MB, over the "
             f"{readers.MAX_UPLOAD_BYTES // 1024**2} MB limit. Nothing was changed.")
    st.stop()

# Read the file once per upload; recompute only the (cheap) preview when the base changes,
# e.g. after "Use for this session" the base is this session's own merged data.
token = hashlib.sha256(raw).hexdigest() + "|" + year.strip()
base = source.path + "|" + str(source.mtime)
parsed = ss.get("upload_parsed")
if not parsed or parsed["token"] != token:
    with st.spinner("Reading and checking the file…"):
        try:
            parsed = {"token": token, "result": readers.read_file(raw, name, period=year.strip() or None),
                      "error": None, "base": None}
        except InputError as exc:
            parsed = {"token": token, "error": str(exc), "base": None}
    ss["upload_parsed"] = parsed
if not parsed["error"] and parsed["base"] != base:
    pv = preview.preview(data.explorer(source.path, source.mtime).frame, [parsed["result"]])
    parsed.update(base=base, report=pv.report, changes=pv.changes, england=pv.england)


def merged_store():
    """The whole store with the upload merged in: built only when it is used."""
    return store.merge_results(data.explorer(source.path, source.mtime).frame, [parsed["result"]])[0]


if parsed["error"]:
    st.error("**This file cannot be used.** " + render.md(parsed["error"]) +
             "  \nNothing was changed: the stored data and this session's data are as they were.",
             icon=":material/error:")
    st.stop()

result, report = parsed["result"], parsed["report"]
st.header("1. Check", anchor=False)
st.success("The file was read without problems.", icon=":material/check_circle:")
st.markdown("\n".join(f"- {render.md(line)}" for line in result.summary()))

st.header("2. Preview", anchor=False)
st.markdown("\n".join(f"- {render.md(line)}" for line in report.lines()))
changes = parsed["changes"]
st.caption("Recovery rates for England and every ICB whose value this file adds or changes "
           "(whole population and BAME).")
st.dataframe(
    changes.rename(columns={
        "period": "Quarter", "level": "Level", "area_code": "Code", "area_name": "Area",
        "group": "Population", "numerator": "Recovered", "denominator": "Denominator",
        "rate_after": "Rate after (%)", "rate_before": "Rate before (%)", "change": "Change (points)",
    }).round(2),
    hide_index=True, key="upload_changes",
)
new_periods = report.periods_added + report.periods_replaced
england = parsed["england"]
keys = [explore.SeriesKey("England", "ENG", "Total"), explore.SeriesKey("England", "ENG", "BME")]
trend = explore.trend(england, keys)
if not trend.empty:
    render.chart(
        charts.trend_spec(
            trend, domain=explore.quarter_domain(england), show_ci=False,
            synthetic=bool(england["synthetic"].any()), highlight=new_periods, frames=True),
        key="upload_chart",
        alt="England recovery rate with the uploaded quarters highlighted. "
        + explore.describe_trend(trend),
    )
    st.caption("Highlighted: " + ", ".join(new_periods) + ".")

st.header("3. Use it", anchor=False)
c1, c2, c3 = st.columns(3)
if c1.button("Use for this session", type="primary", key="apply_session",
             help="Only you see it, until you close this browser tab."):
    folder = ss.get("session_dir") or tempfile.mkdtemp(prefix="nhstt-session-")
    ss["session_dir"] = folder
    path = os.path.join(folder, "recovery.parquet")
    log = data.log(source.path, source.mtime) + [store.log_entry(report, synthetic=False)]
    tmp = path + ".tmp"
    merged = merged_store()
    with open(tmp, "wb") as f:
        f.write(store.to_parquet_bytes(merged, log))
    os.replace(tmp, path)
    ss[data.UPLOAD_KEY] = path
    ss["upload_applied"] = ", ".join(new_periods)
    st.rerun()
c2.download_button(
    "Merged data (Parquet)",
    lambda: store.to_parquet_bytes(merged_store(), data.log(source.path, source.mtime)
                                   + [store.log_entry(report, synthetic=False)]),
    file_name="recovery.parquet", mime="application/octet-stream", key="dl_parquet",
    on_click="ignore", help="Commit this as data/recovery.parquet to update a deployment.",
)
c3.download_button(
    "Merged data (tidy CSV)", lambda: export.to_csv(export.to_long(merged_store())),
    file_name="recovery_tidy.csv", mime="text/csv", key="dl_tidy", on_click="ignore",
)

st.header("4. Save for everyone (maintainers)", anchor=False)
try:
    secret = st.secrets.get("upload_password")
except Exception:  # no secrets file at all
    secret = None
if not secret:
    st.caption(
        "Saving for everyone is switched off: no `upload_password` is set in this deployment's "
        "secrets. On Streamlit Community Cloud the disk does not survive a restart, so the "
        "auditable way to update is to download the merged Parquet above and commit it."
    )
    st.stop()
password = st.text_input("Upload password", type="password", key="upload_password")
allowed = bool(password) and hmac.compare_digest(password.encode(), str(secret).encode())
if password and not allowed:
    st.error("That password is not right.")
shared = store.Store(model.DEFAULT_STORE)
s1, s2 = st.columns(2)
if s1.button("Save for everyone", disabled=not allowed, key="save_shared", type="primary"):
    saved = shared.add([result])
    st.success("Saved. " + " ".join(render.md(line) for line in saved.lines()))
if s2.button("Undo last save", disabled=not (allowed and shared.previous_path.exists()),
             key="undo_shared"):
    try:
        shared.restore()
        st.success("The previous version of the shared data is back.")
    except InputError as exc:
        st.error(render.md(str(exc)))
