"""AppTest: the boundaries control and the Map of ICBs (issue 10).

AppTest cannot click a chart, so a click is tested in two halves: the handler the map calls
with Streamlit's selection state (``sidebar.pick_from_map``, run inside Streamlit), and what
the app shows once the ICB is chosen. The browser test clicks a real shape.
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from core import boundaries as icb_boundaries
from core import geography
from tests.app.conftest import all_text, app, chart_specs, share_link
from tests.app.test_upload import shared_store, upload, upload_page  # noqa: F401
from tests.conftest import area_rows, quarterly_csv, small_quarter
from ui import data as ui_data


def map_page(query: dict[str, str] | None = None) -> AppTest:
    at = app(query)
    at.run()
    at.switch_page("pages/map.py").run()
    assert not at.exception, at.exception
    return at


def the_map(at: AppTest) -> tuple[dict, dict]:
    """The map's spec and its datasets (Streamlit sends them apart from the spec)."""
    found = [(spec, frames) for spec, frames in chart_specs(at) if "map_values" in frames]
    assert len(found) == 1
    return found[0]


def features(spec: dict) -> list[dict]:
    """The boundaries the map carries inline, as TopoJSON text (one copy): its shapes."""
    inline = {(layer["data"]["values"], json.dumps(layer["data"]["format"]))
              for layer in spec["layer"] if isinstance(layer.get("data", {}).get("values"), str)}
    assert len(inline) == 1
    text, fmt = inline.pop()
    assert json.loads(fmt) == {"type": "topojson", "feature": "icbs"}
    return json.loads(text)["objects"]["icbs"]["geometries"]


@pytest.mark.parametrize("b,n", [("2022", 42), ("2026", 36)])
def test_map_renders_one_shape_per_icb_of_the_boundaries(b, n):
    at = map_page({"bnd": b})
    spec, frames = the_map(at)
    shapes = features(spec)
    assert len(shapes) == n and len(frames["map_values"]) == n
    assert sorted(f["properties"]["icb_code"] for f in shapes) == sorted(
        geography.icbs(b)["icb_code"])
    assert at.sidebar.radio(key="w_boundaries").value == b
    # The click selection Streamlit returns, on the ICB code.
    params = spec.get("params", []) + [p for layer in spec["layer"]
                                       for p in layer.get("params", [])]
    assert [p["name"] for p in params] == ["icb"]
    assert params[0]["select"]["fields"] == ["area_code"]
    text = all_text(at)
    assert "Office for National Statistics" in text  # the credit line under the map
    assert f"{n} ICBs of {geography.BOUNDARY_WORDS[b]}," in text
    assert "ICBs (ICBs" not in text
    # The table beside the map: every ICB, with its band in words; the figures next to the
    # name and the region last, so a narrow column still shows them.
    beside = next(d.value for d in at.dataframe if d.value.shape[1] == 4)
    assert len(beside) == n
    assert list(beside.columns) == ["ICB", "Recovery rate (%)", "Compared with England", "Region"]
    # Rates to one decimal place show it ("49.0", not "49" beside "49.3").
    config = json.loads(next(d for d in at.dataframe if d.value.shape[1] == 4).proto.columns)
    assert config["Recovery rate (%)"]["type_config"] == {"type": "number", "format": "%.1f"}


def test_default_boundaries_are_the_latest_published_periods_and_survive_the_share_link():
    at = map_page()
    # The bundled store's latest published period is 2024/25 (its 2026/27 Q1 is synthetic).
    assert at.sidebar.radio(key="w_boundaries").value == "2022"
    assert "bnd" not in at.query_params  # the default stays out of the link
    # ... but views are keyed on the geography drawn, so switching away and back to the
    # default finds the view already made
    assert at.session_state["selection"].geography == "2022"
    at.sidebar.radio(key="w_boundaries").set_value("2026").run()
    assert at.session_state["selection"].geography == "2026"
    assert at.query_params["bnd"] == "2026"
    link = share_link(at)
    assert "bnd=2026" in link
    assert len(features(the_map(at)[0])) == 36
    # The link reopens the same boundaries, on another page too.
    again = app({"bnd": "2026", "view": "ICB", "period": "year"})
    again.run()
    assert again.sidebar.radio(key="w_boundaries").value == "2026"
    assert len(again.sidebar.selectbox(key="w_icb").options) == 36
    again.switch_page("pages/compare.py").run()
    assert not again.exception
    assert "bnd=2026" in share_link(again)
    # All 36: three new East of England ICBs take parts of split ICBs, which the published
    # 2024/25 rows (whole ICBs) cannot be summed into, so they have no figure (never another
    # area's numbers) and the table says why.
    shown = again.dataframe[0].value
    assert len(shown) == 36
    redrawn = shown[shown["Recovery rate (%)"].isna()]
    assert set(redrawn["Compared with England"]) == {"no data (area redrawn)"}
    assert redrawn["Note"].str.contains("area changed on 1 April 2026").all()
    # their last rows are years old: no "recent" trend from them
    assert set(redrawn["Recent trend"]) == {"could not be calculated"}
    assert set(redrawn["Counts"].fillna("")) <= {"", "–"}  # no counts to describe
    # the chart's labels and the text alternative give the same reason as the table
    assert any("Essex ICB (area redrawn)" in c.value.replace("\\", "") for c in again.caption)


def test_switching_boundaries_keeps_the_icb_and_changes_every_icb_view():
    at = app({"view": "ICB", "icb": "QH8", "bnd": "2022", "period": "year"})
    at.run()
    assert at.sidebar.selectbox(key="w_icb").value == "QH8"
    at.sidebar.radio(key="w_boundaries").set_value("2026").run()
    assert not at.exception
    # Mid and South Essex is most of the new Essex ICB: the view follows it.
    assert at.sidebar.selectbox(key="w_icb").value == "D7T5G"
    assert len(at.sidebar.selectbox(key="w_icb").options) == 36
    assert at.query_params["icb"] == "D7T5G" and at.query_params["bnd"] == "2026"
    _, frames = chart_specs(at)[0]
    trend = frames["trend"]
    essex = trend[trend["series"].str.startswith("NHS Essex ICB")]
    assert essex["rate"].notna().any()
    at.switch_page("pages/compare.py").run()
    assert len(at.dataframe[0].value) <= 36


def test_switching_boundaries_there_and_back_returns_to_the_icb_chosen():
    """Bedfordshire, Luton and Milton Keynes is mostly in the April 2026 ICB that is mostly
    Hertfordshire and West Essex: there and back gives back Bedfordshire, Luton and Milton
    Keynes (and so the view already made), not Hertfordshire."""
    at = app({"view": "ICB", "icb": "QHG", "period": "year"})
    at.run()
    at.sidebar.radio(key="w_boundaries").set_value("2026").run()
    there = at.sidebar.selectbox(key="w_icb").value
    assert there == icb_boundaries.corresponding_icb("QHG", "2026") != "QHG"
    assert icb_boundaries.corresponding_icb(there, "2022") != "QHG"  # what the test is about
    at.sidebar.radio(key="w_boundaries").set_value("2022").run()
    assert not at.exception
    assert at.sidebar.selectbox(key="w_icb").value == "QHG"
    assert at.query_params["icb"] == "QHG"
    # A different ICB picked in between is followed as before (its own correspondence).
    at.sidebar.radio(key="w_boundaries").set_value("2026").run()
    at.sidebar.selectbox(key="w_icb").set_value("D7T5G").run()  # NHS Essex, from 2026
    at.sidebar.radio(key="w_boundaries").set_value("2022").run()
    assert at.sidebar.selectbox(key="w_icb").value == icb_boundaries.corresponding_icb(
        "D7T5G", "2022") == "QH8"  # Mid and South Essex: most of it


def test_approximate_points_on_the_icb_trend():
    at = app({"view": "ICB", "icb": "QUA", "bnd": "2022", "period": "year"})
    at.run()
    assert not at.exception
    spec, frames = chart_specs(at)[0]
    trend = frames["trend"]
    point = trend[(trend["period"] == "2021/22")
                  & trend["series"].str.startswith("NHS Black Country ICB")].iloc[0]
    assert point["geo_approximate"] and "West Birmingham" in point["note"]
    assert any("approximate" in line.lower() for line in spec["title"]["subtitle"])
    table = at.dataframe[0].value
    assert "Figure" in table.columns and (table["Figure"] == "approximate").any()


def test_a_click_handler_chooses_the_icb():
    """``pick_from_map`` with the selection state Streamlit keeps for a clicked map."""

    def script():
        import streamlit as st

        from ui import sidebar

        st.session_state.setdefault("icb", "QHM")
        st.session_state["map"] = st.session_state.get("event")
        sidebar.pick_from_map("map", "2026")
        st.text(str(st.session_state["icb"]))

    at = AppTest.from_function(script)
    at.session_state["event"] = {"selection": {"icb": [{"area_code": "QF7"}]}}
    at.run()
    assert at.text[0].value == "QF7"
    at.session_state["event"] = {"selection": {"icb": []}}  # a double click clears
    at.run()
    assert at.text[0].value == "QF7"
    at.session_state["event"] = {"selection": {"icb": [{"area_code": "QH8"}]}}  # not in 2026
    at.run()
    assert at.text[0].value == "QF7"


def test_a_chosen_icb_is_outlined_and_used_by_the_other_pages():
    at = map_page({"bnd": "2026"})
    at.session_state["icb"] = "QF7"  # what the click handler sets
    at.session_state["icb_chosen"] = True
    at.run()
    assert at.sidebar.selectbox(key="w_icb").value == "QF7"
    _, frames = the_map(at)
    assert frames["map_values"].loc[frames["map_values"]["selected"], "area_code"].tolist() == [
        "QF7"]
    assert "South Yorkshire is outlined" in at.caption[1].value or any(
        "South Yorkshire is outlined" in c.value for c in at.caption)
    at.switch_page("pages/trends.py").run()
    at.sidebar.radio(key="w_view").set_value("ICB").run()
    assert at.sidebar.selectbox(key="w_icb").value == "QF7"


def test_colour_by_band_is_in_the_link_and_marks_bands_by_shape():
    at = map_page({"colour": "band"})
    assert at.radio(key="w_colour").value == "band"
    spec, _ = the_map(at)
    assert any("shape" in layer.get("encoding", {}) for layer in spec["layer"])
    at.radio(key="w_colour").set_value("rate").run()
    assert "colour" not in at.query_params


def test_upload_names_an_unknown_code(shared_store):  # noqa: F811
    rows = small_quarter("2026-07-01", "2026-09-30")
    rows += area_rows("2026-07-01", "2026-09-30", code="QZZ9", name="NHS NOWHERE ICB")
    at = upload_page()
    upload(at, "q.csv", quarterly_csv(rows), "text/csv")
    warnings = "\n".join(w.value for w in at.warning).replace("\\", "")
    assert "unknown ICB code QZZ9 (NHS NOWHERE ICB)" in warnings
    assert "Region unknown" in warnings
    assert "QHM" not in warnings


def test_background_preparation_waits_until_no_run_has_ended_for_a_while():
    """The preparation holds Python's lock, so it never takes a step until the app has been
    idle (a visitor's first change used to meet it), and a run ending meanwhile puts it off
    again."""
    import threading
    import time

    ui_data.note_run()
    start = time.monotonic()
    ui_data._wait_until_idle(0.3)
    assert time.monotonic() - start >= 0.29
    ui_data.note_run()
    start = time.monotonic()
    threading.Timer(0.2, ui_data.note_run).start()
    ui_data._wait_until_idle(0.3)
    assert time.monotonic() - start >= 0.49
    # The background thread waits like that before each of its steps.
    steps = []
    source = ui_data.active_source()
    ex = ui_data._shared_explorer(source.path, source.mtime)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ui_data, "_wait_until_idle", lambda *a: steps.append(a))
        ui_data._prepare(ex)
    per_geography = 1 + len(ui_data.explore.Explorer._FIRST_VIEW)
    assert len(steps) == len(geography.BOUNDARIES) * (per_geography + 1)


def test_the_first_page_prepares_both_geographies_in_the_background():
    """After the first page is drawn the app makes the other ICB geography too, so the first
    switch of boundaries does not wait for it (``ui.data.prepare_in_background``)."""
    import streamlit as st

    st.cache_resource.clear()
    at = app()
    at.run()
    assert not at.exception
    ui_data.settle()
    source = ui_data.active_source()
    made = ui_data._shared_explorer(source.path, source.mtime).__dict__["_by_boundaries"]
    assert set(made) == {"2022", "2026"}
    assert "_slices" in made["2026"].__dict__


def test_many_unknown_codes_are_one_warning_with_the_list(shared_store):  # noqa: F811
    """A file with a new geography's codes gave one warning box per code (123 for the sample's
    sub-ICB locations, in review): many are one warning, the codes listed under it."""
    rows = small_quarter("2026-07-01", "2026-09-30")
    for i in range(5):
        rows += area_rows("2026-07-01", "2026-09-30", level="SubICB", code=f"ZZ{i}",
                          name=f"NOWHERE {i}")
    at = upload_page()
    upload(at, "q.csv", quarterly_csv(rows), "text/csv")
    unknown = [w.value for w in at.warning if "not in the reference tables" in w.value]
    assert len(unknown) == 1 and "5 area codes are not in the reference tables" in unknown[0]
    assert 'Their rows are kept, under "Region unknown"' in unknown[0].replace("\\", "")
    listed = "\n".join(t.value for t in at.text)
    assert all(f"SubICB code ZZ{i} (NOWHERE {i})" in listed for i in range(5)), listed


def test_a_published_figure_that_jumped_is_flagged_on_the_map_too():
    """The map shows Compare ICBs' rates and bands, and its caution (``core.unusual``)."""
    from tests.app.conftest import app

    at = app({"period": "year", "at": "2021/22"})
    at.run()
    at.switch_page("pages/map.py").run()
    assert not at.exception
    warned = [w.value for w in at.warning if "Treat with care" in w.value]
    assert len(warned) == 1 and "Swindon and Wiltshire ICB, on 2020/21" in warned[0].replace("\\", "")
