"""AppTest: the Ethnic inequalities page answers first, and its groups chart's CSV holds what
the chart draws.

A reviewer found the gap only in a grey description under the chart, and a group the chart
drew at 55.1% (its 'not at caseness' suppressed, so its rate is the middle of a range) blank
in the CSV with "suppressed".
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.app.conftest import app, chart_specs
from ui import data as ui_data


def _open(query: dict[str, str], page: str = "pages/inequalities.py"):
    at = app(query)
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def _in_order(node):
    """The page's elements in the order they are drawn."""
    children = getattr(node, "children", None)
    if not children:
        yield node
        return
    for key in sorted(children):
        yield from _in_order(children[key])


def test_the_gap_is_answered_before_the_chart_as_the_trends_page_states_it():
    """England, 2024/25 (published): the first thing under the area's name is the gap in
    points, then its interval, the verdict and whether it is widening, in the words and
    figures of the trends page's headline; the chart comes after."""
    at = _open({"period": "year"})
    kinds = [getattr(e, "type", "") for e in _in_order(at.main)]
    assert kinds.index("metric") < kinds.index("vega_lite_chart")
    gap = at.metric[0]
    assert gap.label == "BAME − White British, 2024/25"
    assert gap.value == "−4.2 points"
    assert "Newcombe" in gap.proto.help
    words = next(m.value for m in at.markdown if m.value.startswith("**Significant**"))
    assert "95% interval −4.5 to −3.9 points" in words
    assert "Over the 5 financial years to 2024/25: **widening**" in words
    elements = list(_in_order(at.main))
    assert kinds.index("metric") < elements.index(
        next(e for e in elements if getattr(e, "value", None) == words)) < kinds.index(
        "vega_lite_chart")
    # The trends page's headline for the same area and period type: the same figures.
    trends = _open({"period": "year"}, "pages/trends.py")
    theirs = next(m for m in trends.metric if m.label.startswith("BAME − White British"))
    assert (theirs.label, theirs.value, theirs.proto.help) == (gap.label, gap.value,
                                                                gap.proto.help)
    assert any(words in m.value for m in trends.markdown)


def test_the_answer_fits_a_phone():
    """st.metric cuts its label and value at the column's width: both stay short (a phone
    column is about 350 px; the quarterly label, the longest, is 33 characters)."""
    for query in ({"period": "year"}, {"period": "quarter", "view": "ICB", "icb": "QWO"}):
        at = _open(query)
        gap = at.metric[0]
        assert len(gap.label) <= 33 and len(gap.value) <= 12, (gap.label, gap.value)


def test_the_answer_says_why_when_there_is_no_gap():
    """A period with no gap (an ICB the 2026 boundaries redrew, whose series ends earlier)
    states its latest period with a gap's reason or value, never a blank or a placeholder."""
    at = _open({"period": "year", "view": "ICB", "bnd": "2026", "icb": "T6Y0W"})
    gap = at.metric[0]
    assert gap.label.startswith("BAME − White British, ")
    assert gap.value.endswith(" points") or gap.value == "no data"
    assert not any(s in gap.label + gap.value for s in ("None", "nan", "null"))


def test_latest_gap_period_is_the_areas_latest_with_either_group():
    gap = {"period": np.array(["a", "b", "c"], dtype=object),
           "rate_a": np.array([1.0, np.nan, np.nan]), "rate_b": np.array([1.0, 2.0, np.nan])}
    assert ui_data.latest_gap_period(gap, ["a", "b", "c"]) == "b"
    empty = {**gap, "rate_a": np.full(3, np.nan), "rate_b": np.full(3, np.nan)}
    assert ui_data.latest_gap_period(empty, ["a", "b", "c"]) == "c"
    assert ui_data.latest_gap_period({}, []) is None


@pytest.mark.parametrize("query", [
    {"period": "year", "view": "ICB", "icb": "QHL", "det": "1"},
    {"period": "year", "view": "ICB", "icb": "QHL"},
    {"period": "year", "det": "1"},
    {"period": "quarter", "view": "ICB", "icb": "QWO", "det": "1"},
])
def test_every_plotted_group_is_in_the_csv_with_the_rate_the_chart_draws(query):
    """Each point of the groups chart, its rate and interval, is in the page's CSV download;
    a rate drawn from its range (a count suppressed) carries the range and says why. Before,
    Birmingham and Solihull's "Other Ethnic Groups: Chinese" (2024/25) was drawn at 55.1%
    and exported blank."""
    at = _open(query)
    _, frames = chart_specs(at)[1]
    plotted = frames["groups"]
    source = ui_data.active_source()
    level, code = ("ICB", query["icb"]) if "icb" in query else ("England", "ENG")
    period = at.selectbox(key="w_at").value
    csv = ui_data.groups_export(source.path, source.mtime, level, code, period, "recovery",
                                "det" in query)
    assert csv["rate"].notna().sum() == len(plotted)
    # The CSV's rows in the chart's order: its rated rows are the plotted ones, one for one.
    rated = csv[csv["rate"].notna()].reset_index(drop=True)
    assert list(rated["classification"]) == list(plotted["classification"])
    for column in ("rate", "ci95_low", "ci95_high"):
        assert rated[column].to_numpy(float) == pytest.approx(
            plotted[column].to_numpy(float)), column
    ranged = rated[rated["rate_status"] == "range"]
    assert (ranged["rate_low"] < ranged["rate"]).all() and (
        ranged["rate"] < ranged["rate_high"]).all()
    assert ranged["note"].str.startswith("'Not at caseness' was suppressed").all()
    table = at.dataframe[1].value
    assert table["Rate (%)"].notna().sum() == len(plotted)
    if query.get("icb") == "QHL" and "det" in query:
        chinese = rated.set_index("group").loc["Chinese"]
        assert round(chinese["rate"], 1) == 55.1 and chinese["rate_status"] == "range"
        assert round(chinese["ci95_low"]) == 43 and round(chinese["ci95_high"]) == 67
        row = table.set_index("Group").loc["Other Ethnic Groups: Chinese"]
        assert row["Rate (%)"] == 55.1  # one decimal place, as every table shows it
        assert row["Why a figure is blank"] == "a count suppressed (rate from its range)"


def test_a_group_figure_that_jumped_is_flagged_above_the_gap():
    """Bath and North East Somerset, Swindon and Wiltshire's BAME and White British figures
    for 2021/22 jumped with its whole population's (``core.unusual``): the gap drawn from
    them says so before the chart."""
    from tests.app.conftest import app

    at = app({"view": "ICB", "icb": "QOX", "period": "year"})
    at.run()
    at.switch_page("pages/inequalities.py").run()
    assert not at.exception
    warned = [w.value.replace("\\", "") for w in at.warning if "Treat with care" in w.value]
    assert len(warned) == 1 and "Swindon and Wiltshire, BAME, 2021/22, on 2020/21" in warned[0]
    at = app({"view": "ICB", "icb": "QHL", "period": "year"})
    at.run()
    at.switch_page("pages/inequalities.py").run()
    # Its BAME and White British lines are in line with each year before (its "Not stated"
    # group is not, and the groups chart says so: its own caution).
    said = " ".join(w.value.replace("\\", "") for w in at.warning)
    assert "Birmingham and Solihull, BAME" not in said
    assert "Birmingham and Solihull, White British" not in said


def test_a_groups_figure_that_jumped_is_marked_in_the_groups_chart():
    """The rates by ethnic group of one area and period: a group whose figure changed too
    sharply on the same period a year before is cautioned above the chart, marked with a
    dagger in it, and said in its text (BaNES, 2021/22: every group jumped with the whole)."""
    from tests.app.conftest import app, chart_specs

    at = app({"view": "ICB", "icb": "QOX", "period": "year", "at": "2021/22"})
    at.run()
    at.switch_page("pages/inequalities.py").run()
    assert not at.exception
    warned = [w.value.replace("\\", "") for w in at.warning if "Treat with care" in w.value]
    assert any("Whole population, 2021/22, on 2020/21: 5,160 → 15,245" in w for w in warned), warned
    groups = next(data for spec, data in chart_specs(at) if "groups" in data)["groups"]
    assert any(str(r).endswith("†") for r in groups["row"])
    assert any("Treat with care" in c.value.replace("\\", "") for c in at.caption
               if c.value.startswith("Description") and "by ethnic group" in c.value)
