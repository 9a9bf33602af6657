"""AppTest: the Ethnic inequalities page's groups chart's CSV holds what the chart draws.

A reviewer found a group the chart drew at 55.1% (its 'not at caseness' suppressed, so its
rate is the middle of a range) blank in the CSV with "suppressed".
"""

from __future__ import annotations

import pytest

from tests.app.conftest import app, chart_specs
from ui import data as ui_data


def _open(query: dict[str, str], page: str = "pages/inequalities.py"):
    at = app(query)
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


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
        assert row["Rate (%)"] == pytest.approx(55.08, abs=0.01)
        assert row["Why a figure is blank"] == "a count suppressed (rate from its range)"
