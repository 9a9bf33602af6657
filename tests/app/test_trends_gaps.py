"""AppTest: the gap beside the headline, blanks that say why, the time range, many series.

Issue 12 on "Recovery over time" and "Ethnic inequalities", on the bundled store: its
financial years are NHS England's published annual figures, its quarters a synthetic sample.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest

from core.store import Store
from tests.app.conftest import all_text, app, chart_specs, share_link
from ui import data as ui_data

#: What a reader must never see: a placeholder instead of a reason.
BAD = re.compile(r"\b(None|nan|NaN|null|NULL|<NA>|NaT)\b")
GAP_LABEL = "BAME − White British"
WHY = "Why a figure is blank"


def _open(query: dict[str, str], page: str | None = None):
    at = app(query)
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def _gap_metric(at):
    return next(m for m in at.metric if m.label.startswith(GAP_LABEL))


def _gap_sentence(at) -> str:
    return next(m.value for m in at.markdown if "Significant" in m.value
                or "No gap for" in m.value)


def _trend_frame(at) -> tuple[dict, pd.DataFrame]:
    spec, frames = chart_specs(at)[0]
    return spec, frames["trend"]


def test_gap_headline_real_england_2024_25():
    """England, financial year 2024/25 (published annual figures): BAME 4.2 points below White
    British, Newcombe 95% interval about −4.5 to −3.9, significant, and widening over the last
    five years (as the inequalities page says)."""
    at = _open({"period": "year"})
    gap = _gap_metric(at)
    assert gap.label == "BAME − White British, 2024/25"
    assert gap.value == "−4.2 points"
    assert "Newcombe" in gap.proto.help
    words = _gap_sentence(at)
    assert "95% interval −4.5 to −3.9 points" in words
    assert words.startswith("**Significant**: the BAME rate is lower than the White British")
    assert "Over the 5 financial years to 2024/25: **widening**" in words
    # The same figure as the inequalities page's table, from the same counts.
    at.switch_page("pages/inequalities.py").run()
    table = at.dataframe[0].value.set_index("Period")
    assert round(table.loc["2024/25", "Difference (points)"], 1) == -4.2
    assert table.loc["2024/25", "Significance"] == "significant at 95%"


def test_gap_headline_follows_the_area_and_the_period_type():
    at = _open({"period": "quarter", "view": "ICB", "icb": "QWO"})
    gap = _gap_metric(at)
    latest = at.metric[0].label.split(", ")[-1]
    assert gap.label == f"BAME − White British, {latest}" and " Q" in latest
    assert re.fullmatch(r"[−+]\d+\.\d points", gap.value)
    assert "Over the 5 quarters to " in _gap_sentence(at)


def test_gap_headline_says_when_a_group_has_no_data(tmp_path):
    """With England's BAME counts for 2024/25 suppressed, the headline says there is no gap
    and why, in words; the rate headline is unaffected."""
    frame = Store().load()
    hit = ((frame["area_code"] == "ENG") & (frame["group"] == "BME")
           & (frame["period"] == "2024/25"))
    assert hit.sum() == 1
    frame.loc[hit, ["finished", "not_at_caseness", "recovered", "reliable_recovery",
                    "reliable_improvement"]] = np.nan
    frame.loc[hit, "suppressed"] = True
    path = tmp_path / "recovery.parquet"
    frame.to_parquet(path)
    at = app({"period": "year"})
    at.session_state[ui_data.UPLOAD_KEY] = str(path)
    at.run()
    assert not at.exception, at.exception
    assert at.metric[0].value == "50.5%"
    assert _gap_metric(at).value == "no data"
    words = _gap_sentence(at)
    assert words.startswith("**No gap for 2024/25**: BAME: suppressed (NHS England published * "
                            "instead of a count under 5). Over the 5 financial years to "
                            "2023/24: **")
    assert not BAD.search(all_text(at))


def test_since_reopens_the_chart_from_that_period_and_the_link_keeps_it():
    at = _open({"period": "year", "since": "2020/21"})
    assert at.selectbox(key="w_since").value == "2020/21"
    spec, trend = _trend_frame(at)
    line = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "line")
    assert line["encoding"]["x"]["scale"]["domain"][0] == "2020/21"
    assert list(trend["period"].unique())[0] == "2020/21"
    assert at.dataframe[0].value["Period"].iloc[0] == "2020/21"
    described = next(c.value for c in at.caption
                     if c.value.startswith("Description")).replace("\\", "")
    assert "in 2020/21" in described and "2017/18" not in described
    # The span under the heading too (it said 2017/18 to 2024/25; a helper's review); on an
    # ICB view it also says which lines are drawn without being asked for.
    icb = _open({"period": "year", "view": "ICB", "icb": "QHL", "eng": "0"})
    assert any(c.value.endswith("The chart draws this ICB's whole population and its BAME "
                                "population.") for c in icb.caption), [c.value for c in icb.caption]
    assert not any("The chart draws" in c.value for c in at.caption)  # national view
    assert any(c.value.startswith("Financial year (April to March), 2020/21 to 2024/25.")
               for c in at.caption), [c.value for c in at.caption]
    # The headline is the whole series': latest year and the year before, unchanged.
    assert at.metric[0].label == "Recovery rate, 2024/25" and at.metric[0].value == "50.5%"
    assert at.metric[1].label == "A year earlier (2023/24)"
    assert at.query_params["since"] == "2020/21"
    link = share_link(at)
    assert parse_qs(urlsplit(link).query)["since"] == ["2020/21"]
    # The CSV starts there too.
    source = ui_data.active_source()
    csv = ui_data.trend_export(source.path, source.mtime,
                               (ui_data.explore.SeriesKey("England", "ENG", "Total"),),
                               "recovery", False, "year", "2020/21")
    assert sorted(csv["period"].unique())[0] == "2020/21"
    # Choosing another start rewrites the link; the link reopens it.
    at.selectbox(key="w_since").set_value("2022/23").run()
    assert at.query_params["since"] == "2022/23"
    again = _open(dict(at.query_params))
    assert again.selectbox(key="w_since").value == "2022/23"
    assert _trend_frame(again)[1]["period"].iloc[0] == "2022/23"


def test_many_series_band_only_for_the_main_one_and_short_legend_names():
    """ICB view, two other areas and England: seven lines, one confidence band (the chosen
    population's), legend entries naming the place, the full name in the tooltip."""
    at = _open({"period": "quarter", "view": "ICB", "icb": "QWO", "areas": "QHM,QMJ",
                "pop": "BME"})
    spec, trend = _trend_frame(at)
    assert trend["series"].nunique() == 7
    band = [layer for layer in spec["layer"] if layer["mark"]["type"] == "area"]
    assert len(band) == 1 and {"filter": "datum.main === true"} in band[0]["transform"]
    main = trend.loc[trend["main"], "series"].unique().tolist()
    assert main == ["NHS West Yorkshire ICB, Black, Asian and minority ethnic (BAME)"]
    assert set(trend["legend"]) >= {"West Yorkshire, BAME", "West Yorkshire, Whole population",
                                  "England, BAME"}
    assert not any("Integrated Care Board" in x or x.startswith("NHS ") for x in trend["legend"])
    assert trend.groupby("series")["legend"].nunique().eq(1).all()
    assert trend.groupby("legend")["series"].nunique().eq(1).all()



def test_every_approximate_point_with_a_rate_is_marked_as_the_csv_says():
    """Birmingham and Solihull's BAME rates of 2017/18 to 2019/20 are summed across a boundary
    cut (approximate) and, with 'not at caseness' suppressed, known only as a range: the chart
    drew them without the open diamond its note promises, while the CSV said approximate
    (review, 2026-11-28). Each point with a rate is marked exactly where the CSV says so, and
    its tooltip says both why it is a range and what the boundary cut."""
    at = _open({"period": "year", "view": "ICB", "icb": "QHL"})
    _, trend = _trend_frame(at)
    drawn = trend[trend["rate"].notna()]
    bame = drawn[drawn["group"] == "BME"].set_index("period")
    assert bame.loc[["2017/18", "2018/19", "2019/20"], "geo_approximate"].all()
    for note in bame.loc[["2017/18", "2018/19", "2019/20"], "note"]:
        assert "suppressed" in note and "Approximate: sum of" in note, note
    # The CSV of the same view (what its download button makes).
    source = ui_data.active_source()
    keys = tuple(at.session_state["selection"].series(ui_data.explorer(source.path,
                                                                       source.mtime)))
    csv = ui_data.trend_export(source.path, source.mtime, keys, "recovery", kind="year")
    csv = csv[csv["rate"].notna()]
    # (England?, group, period): the CSV names an ICB in full, the chart by its short name.
    said = {(r.area_code == "ENG", r.group, r.period) for r in csv.itertuples()
            if r.approximate}
    marked = {(r.area_name == "England", r.group, r.period) for r in drawn.itertuples()
              if r.geo_approximate}
    assert marked == said and len(marked) >= 10, (marked ^ said)


def _missing_rows_say_why(frame: pd.DataFrame, value: str, note: str) -> None:
    empty = frame[value].isna()
    assert frame.loc[empty, note].map(lambda v: isinstance(v, str) and v != "").all(), \
        frame.loc[empty & ~frame[note].map(lambda v: isinstance(v, str) and v != "")]


def _no_placeholders(at, where: str) -> None:
    text = all_text(at)
    text += "\n".join(f"{m.label} {m.value} {m.proto.help}" for m in at.metric)
    text += "\n".join(str(m.proto.help) for m in at.markdown)
    assert not BAD.search(text), (where, BAD.search(text))
    for table in at.dataframe:
        frame = table.value
        assert not any(BAD.search(str(c)) for c in frame.columns), where
        for col in frame.columns:
            if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
                assert not any(BAD.search(str(v)) for v in frame[col].tolist()), (where, col)
                assert all(v is not None and not (isinstance(v, float) and np.isnan(v))
                           for v in frame[col].tolist()), (where, col)
        # Every empty figure has its reason on the same row, beside the row's name; the grid
        # shows a dash in the empty cell.
        assert table.proto.placeholder == "–", where
        if WHY in frame.columns:
            figures = frame.select_dtypes("number")
            empty = figures.isna().any(axis=1)
            assert len(figures.columns) >= 3, where
            assert (frame.loc[empty, WHY] != "").all(), (where, frame.loc[empty])
            assert (frame.loc[~empty, WHY] == "").all(), (where, frame.loc[~empty, WHY])
    for _spec, frames in chart_specs(at):
        for name, frame in frames.items():
            if frame is None:
                continue
            for col in frame.columns:
                if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
                    assert not frame[col].dropna().astype(str).str.fullmatch(
                        r"None|nan|NaN|null").any(), (where, name, col)
            if name in ("trend", "gap") and "why" in frame:
                _missing_rows_say_why(frame, "rate" if name == "trend" else "gap", "why")


@pytest.mark.parametrize("query", [
    {"period": "year"},
    {"period": "quarter"},
    {"period": "quarter", "roll": "1"},
    {"period": "year", "view": "ICB", "icb": "QWO", "areas": "QHM,ENG"},
    {"period": "quarter", "view": "ICB", "icb": "QWO", "areas": "QHM,QMJ", "pop": "Mixed"},
])
def test_trends_show_no_none_nan_or_null(query):
    at = _open(query)
    _no_placeholders(at, str(query))
    at.selectbox(key="w_since").set_value(at.selectbox(key="w_since").options[2]).run()
    _no_placeholders(at, f"{query} since")


@pytest.mark.parametrize("query", [
    {"period": "year"},
    {"period": "quarter", "det": "1"},
    {"period": "quarter", "view": "ICB", "icb": "QWO"},
    {"period": "year", "view": "ICB", "icb": "QWO", "det": "1"},
])
def test_inequalities_show_no_none_nan_or_null(query):
    at = _open(query, "pages/inequalities.py")
    _no_placeholders(at, str(query))
    at.toggle(key="w_detailed").set_value(not at.toggle(key="w_detailed").value).run()
    _no_placeholders(at, f"{query} toggled")


def test_icb_gap_marks_the_unpublished_quarter_and_says_why_periods_are_empty():
    """On the quarterly view the BAME − White British chart of an ICB shades and labels
    2020/21 Q2, and every period without a gap (before the ICB existed) has a cross whose
    tooltip says why; its table says the same."""
    at = _open({"period": "quarter", "view": "ICB", "icb": "QWO"}, "pages/inequalities.py")
    spec, frames = chart_specs(at)[0]
    labels = {t for f in frames.values() if f is not None and "text" in f for t in f["text"]}
    assert "2020/21 Q2: not published" in labels
    gap = frames["gap"]
    empty = gap[gap["gap"].isna()]
    assert len(empty) and (empty["why"] != "").all()
    assert empty.set_index("period").loc["2020/21 Q2", "note"] == "not published"
    # before the ICB's first quarter: the series had not begun (not "nothing published")
    assert empty.set_index("period").loc["2019/20 Q1", "why"].startswith(
        "before this series began: ")
    crosses = [layer for layer in spec["layer"] if layer.get("mark", {}).get("shape") == "cross"]
    assert len(crosses) == 1
    table = at.dataframe[0].value.set_index("Period")
    assert table.loc["2020/21 Q2", "Note"].startswith("not published: NHS England never")


@pytest.mark.parametrize("page", [None, "pages/compare.py"])
def test_counts_in_tables_have_thousands_separators(page):
    """Tables showed "263295" where the text says "321,061" (review, 2026-11-28): every count
    column is shown in the reader's locale ("263,295")."""
    import json

    at = _open({"period": "year", "view": "ICB", "icb": "QHL"}, page)
    seen = 0
    for table in at.dataframe:
        config = json.loads(table.proto.columns or "{}")
        counts = [c for c in table.value.columns if pd.api.types.is_integer_dtype(table.value[c])]
        seen += len(counts)
        for c in counts:
            assert config[c]["type_config"]["format"] == "localized", (c, config.get(c))
    assert seen, "no table with counts on the page"
