"""AppTest: issue 11's statistics as the pages show them (bundled synthetic store).

Overdispersion on the Compare ICBs page (phi, one switch for unadjusted limits, both
verdicts), the recent trend and the tested change in the headline, the gap's trend on the
inequalities page, rounding ranges and notes in tables and chart data, and the methods on the
About page.
"""

from __future__ import annotations

import re

import pytest

from core import unusual, verdicts
from tests.app.conftest import all_text as _raw_text
from tests.app.conftest import app, chart_specs


def all_text(at) -> str:
    """The page's text as a reader sees it: Markdown's backslash escapes (``render.md``
    escapes every punctuation mark) taken out."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", _raw_text(at))

#: A verdict, with the tested window's ends in figures where there is one.
TREND_WORDS = re.compile(r"^((↑ increasing|↓ decreasing|→ no significant change)"
                         r"( \(\d+\.\d% in [^,]+, \d+\.\d% in [^)]+\))?|"
                         r"could not be calculated)$")
BAD = re.compile(r"\b(None|nan|NaN|null)\b")


def _open(page: str, query: dict[str, str] | None = None):
    at = app(query)
    at.run()
    if page != "pages/trends.py":
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def _cells(frame) -> list[str]:
    return [str(v) for col in frame.columns if frame[col].dtype == object for v in frame[col]]


def _metric(at, label: str):
    return next(m for m in at.metric if m.label.startswith(label))


def _verdict(at, label: str) -> tuple[str, str]:
    """A headline verdict, a sentence under its figure (it wraps where a metric is cut):
    ("↓ decreasing", its help) for "Recent trend"."""
    m = next(m for m in at.markdown if m.value.startswith(label))
    return m.value.split(": ", 1)[1].strip("*"), m.proto.help


def test_real_2024_25_icbs_19_outside_unadjusted_none_adjusted_page_says_phi():
    """The bundled financial years are NHS England's published annual figures: in 2024/25,
    19 of 42 ICBs lie outside the binomial 99.8% limits; allowing for overdispersion
    (phi about 13) leaves none outside 99.8% and 4 outside 95%."""
    at = _open("pages/compare.py", {"period": "year"})
    assert at.selectbox(key="w_at").value == "2024/25"
    info = " ".join(i.value for i in at.info)
    assert "phi = 13.2" in info
    assert "0 of 42 lie outside the adjusted 99.8% limits (4 outside 95%)" in info
    assert "against 19 outside the unadjusted 99.8% limits" in info
    table = at.dataframe[0].value
    plain = table["Compared with England, unadjusted (Fingertips)"].str.contains("99.8")
    adjusted = table["Compared with England, allowing for overdispersion"].str.contains("99.8")
    assert plain.sum() == 19 and adjusted.sum() == 0
    # ICB series continue before July 2022 (summed from their CCGs, issue 10), so the recent
    # trend (last five financial years) is calculated for every ICB.
    assert set(table["Recent trend"]) <= {"↑ increasing", "→ no significant change",
                                          "↓ decreasing"}


@pytest.mark.parametrize("period", ["quarter", "year"])
def test_compare_adjusted_by_default_with_phi_and_both_verdicts(period):
    at = _open("pages/compare.py", {"period": period})
    info = " ".join(i.value for i in at.info)
    phi = re.search(r"phi = (\d+\.\d)", info)
    assert phi and float(phi.group(1)) > 1
    assert "Spiegelhalter" in info and "Both verdicts are in the table" in info
    text = all_text(at)
    assert "with 42 areas, about 2.1 would fall outside the 95% limits by chance alone" in text
    table = at.dataframe[0].value
    adj = table["Compared with England, allowing for overdispersion"]
    plain = table["Compared with England, unadjusted (Fingertips)"]
    assert list(table["Compared with England"]) == list(adj)
    assert (adj != plain).any()  # the adjustment changes some verdicts on this store
    assert table["Recent trend"].map(lambda v: bool(TREND_WORDS.match(v))).all()
    assert table["Range under rounding"].str.contains("% to ").all()
    assert table["Note"].map(lambda v: isinstance(v, str) and v != "").all()
    assert not any(BAD.search(c) for c in _cells(table))
    assert not BAD.search(text)


def test_compare_switch_gives_unadjusted_limits_and_fingertips_bands():
    at = _open("pages/compare.py", {"period": "quarter", "chart": "funnel"})  # its tab open
    adjusted_limits = _funnel_width(at)
    at.toggle(key="w_unadjusted").set_value(True).run()
    assert not at.exception
    info = " ".join(i.value for i in at.info)
    assert info.startswith("Unadjusted limits") and "phi = " in info
    table = at.dataframe[0].value
    assert list(table["Compared with England"]) == \
        list(table["Compared with England, unadjusted (Fingertips)"])
    assert _funnel_width(at) < adjusted_limits
    # the choice is in the link, and the link reopens it
    assert at.query_params["adj"] == "0"
    again = _open("pages/compare.py", {"period": "quarter", "adj": "0"})
    assert again.toggle(key="w_unadjusted").value is True
    assert " ".join(i.value for i in again.info).startswith("Unadjusted limits")


def _funnel_width(at) -> float:
    """Width of the funnel's 99.8% limits at their narrowest end, from the chart's data."""
    for _spec, frames in chart_specs(at):
        for frame in frames.values():
            if frame is not None and {"limit", "rate", "denominator"} <= set(frame.columns):
                at_n = frame.sort_values("denominator").groupby("limit")["rate"].first()
                return float(at_n["high998"] - at_n["low998"])
    pytest.fail("no funnel limits in the page's charts")


def test_trend_headline_has_recent_trend_and_tested_change():
    at = _open("pages/trends.py")
    trend, trend_help = _verdict(at, "Trend over the 5 ")
    assert TREND_WORDS.match(trend)
    assert "chi-squared test for trend" in trend_help
    # The change sits under the latest figure, naming the period it is on.
    change, earlier = _metric(at, "Recovery rate"), _metric(at, "A year earlier")
    since = earlier.label.removeprefix("A year earlier (").removesuffix(")")
    assert re.fullmatch(r"[+-]\d+\.\d points on " + re.escape(since), change.proto.delta)
    assert "Newcombe" in change.proto.help and not earlier.proto.delta
    # The delta is the difference of the two figures shown.
    now = float(change.value.rstrip("%"))
    then = float(earlier.value.rstrip("%"))
    assert change.proto.delta == f"{now - then:+.1f} points on {since}"
    # Grey unless Newcombe's interval excludes 0 (the help says which).
    significant = ": higher." in change.proto.help or ": lower." in change.proto.help
    grey = change.proto.color == _gray()
    assert grey != significant


def _gray() -> int:
    from streamlit.proto.Metric_pb2 import Metric

    return Metric.MetricColor.GRAY


def test_trend_table_and_chart_data_carry_rounding_range_and_notes():
    at = _open("pages/trends.py", {"view": "ICB"})
    table = at.dataframe[0].value
    assert "Range under rounding" in table.columns
    assert table["Range under rounding"].str.contains("% to ").any()
    assert not any(BAD.search(c) for c in _cells(table))
    spec, frames = chart_specs(at)[0]
    data = max((f for f in frames.values() if f is not None), key=len)
    notes = data["note"].dropna()
    assert notes.str.contains("rounded to the nearest 5").any()
    assert not notes.map(lambda v: bool(BAD.search(str(v)))).any()


def test_inequalities_gap_trend_and_groups_notes():
    at = _open("pages/inequalities.py", {"period": "quarter"})
    text = all_text(at)
    assert re.search(r"Gap between BAME and White British over the last 5 quarters: "
                     r"(widening|narrowing|no significant change)|could not be calculated",
                     text)
    groups = at.dataframe[1].value
    assert {"Range under rounding", "Note"} <= set(groups.columns)
    assert not any(BAD.search(c) for c in _cells(groups))


def test_real_england_gap_widening_over_financial_years():
    """England, 2020/21 to 2024/25 (published annual figures): the BME rate falls while White
    British stays flat, so the gap widens, and the page says so."""
    at = _open("pages/inequalities.py", {"period": "year"})
    assert "over the last 5 financial years: widening" in all_text(at)


def test_real_england_bme_headline_trend_decreasing():
    at = _open("pages/trends.py", {"period": "year", "pop": "BME"})
    assert _verdict(at, "Trend over the 5 years 2020/21 to 2024/25")[0].startswith(
        "↓ decreasing (")
    assert _metric(at, "A year earlier").label == "A year earlier (2023/24)"
    # the label says the span, so a rise on a year ago beside a five-year fall reads true
    whole = _open("pages/trends.py", {"period": "year"})
    assert _metric(whole, "Recovery rate").delta.startswith("+")
    # ... and the verdict's ends in figures say where the fall was (a helper's review read
    # "decreasing" beside a rise in the last two years as a contradiction)
    assert _verdict(whole, "Trend over the 5 years 2020/21 to 2024/25")[0] == (
        "↓ decreasing (51.4% in 2020/21, 50.5% in 2024/25)")
    # a redrawn 2026 ICB's series ends in 2021/22: the label says so rather than "last 5"
    redrawn = _open("pages/trends.py", {"period": "year", "view": "ICB", "bnd": "2026",
                                         "icb": "T6Y0W"})
    assert any(m.value.startswith("Trend over the 5 years 2017/18 to 2021/22") for m in redrawn.markdown)


def test_about_cites_each_method():
    at = _open("pages/about.py")
    text = all_text(at)
    for words in ("Wilson", "two-level comparison", "Spiegelhalter, 2005", "dispersion ratio φ",
                  "chi-squared test for trend", "99.8%", "Weighted least squares",
                  "Newcombe's hybrid score", "Rounding ranges", "*approximate*"):
        assert words in text, words
    # The unusual-figures rule, with the thresholds core.unusual applies.
    assert (f"by more than a factor of {unusual.SIZE_FACTOR:g}" in text
            and f"{unusual.RATE_POINTS:.0f} points or more" in text
            and f"at least {unusual.MIN_PEOPLE} people" in text)


def test_view_sentences_come_from_core():
    """The page's sentences are core.verdicts' (no wording of its own to drift)."""
    assert verdicts.chance_sentence(42).startswith("Many comparisons: with 42 areas")


@pytest.mark.parametrize("page", ["pages/trends.py", "pages/compare.py", "pages/map.py",
                                  "pages/inequalities.py"])
def test_a_synthetic_charts_text_alternative_says_so_first(page):
    """The bundled quarters are the synthetic sample: the chart's subtitle said so, but its
    description (the chart's text alternative) stated invented figures as fact (a helper's
    browser review). The published financial years are not called synthetic."""
    quarters = _open(page, {"period": "quarter"})
    said = [c.value.replace("\\", "") for c in quarters.caption
            if c.value.startswith("Description: ")]
    assert said and all(d.startswith("Description: Synthetic sample data, not published "
                                     "statistics:") for d in said)
    years = _open(page, {"period": "year"})
    said = [c.value for c in years.caption if c.value.startswith("Description: ")]
    assert said and not any("ynthetic" in d for d in said)


def test_a_link_may_name_the_population_as_the_app_does():
    for typed in ("BAME", "bame", "BME", "bme"):
        at = _open("pages/trends.py", {"period": "year", "pop": typed})
        assert at.session_state["population"] == "BME", typed
