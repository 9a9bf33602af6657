"""Compare ICBs' rows, text and funnel CSV (issue 12): sorted by rate, name or size, narrowed
to one region without changing a verdict, an area with no rate saying why, the chosen ICB named
in the text alternative, and the funnel's tidy rows (every ICB, then the limits) neutralised
like every export. Checked on the real 2024/25 figures in ``../shared`` and, for suppressed
counts, on the bundled store's synthetic latest quarter."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import descriptions, explore, export, ranking, tables, verdicts
from core.store import Store
from tests.core import real


@pytest.fixture(scope="module")
def real_icbs() -> explore.Explorer:
    """The real annual figures (``../shared``), every year."""
    return explore.Explorer(pd.concat([real.year(y) for y in real.YEARS], ignore_index=True))


def _ranked(ex: explore.Explorer, period: str, group: str = "Total", **kw) -> ranking.Ranking:
    return ranking.rank_icbs(ex, period, group, "recovery", **kw)


@pytest.fixture(scope="module")
def compared(real_icbs):
    """Real 2024/25 ICBs compared with England, as the page builds them."""
    r = _ranked(real_icbs, "2024/25")
    england = {"rate": r.england}
    return r.table, england, r.info, r.adjusted


@pytest.fixture(scope="module")
def suppressed():
    """The bundled store's latest quarter for Black or Black British people: some ICBs' counts
    were withheld."""
    ex = explore.Explorer(Store().load())
    r = _ranked(ex, ex.published("quarter")[-1], "Black or Black British")
    return r.table, {"rate": r.england}


def test_sorts(real_icbs):
    by_rate = _ranked(real_icbs, "2024/25", sort="rate").table["rate"].to_numpy()
    assert (np.diff(by_rate) <= 0).all()
    names = _ranked(real_icbs, "2024/25", sort="name").table["area"].tolist()
    assert names == sorted(names, key=str.casefold) and names[0].startswith("NHS Bath")
    den = _ranked(real_icbs, "2024/25", sort="size").table["denominator"].to_numpy("float64")
    assert (np.diff(den) <= 0).all()
    with pytest.raises(ValueError, match="sort must be one of rate, name, size"):
        _ranked(real_icbs, "2024/25", sort="colour")


@settings(max_examples=60, deadline=None)
@given(rates=st.lists(st.one_of(st.none(), st.floats(0, 100)), min_size=1, max_size=30),
       sort=st.sampled_from(verdicts.SORT_KEYS))
def test_sort_keeps_every_row_and_puts_missing_values_last(rates, sort):
    n = len(rates)
    values = np.array([np.nan if r is None else r for r in rates], dtype=float)
    names = np.array([f"NHS Area {i:02d} ICB" for i in range(n)], dtype=object)
    order = verdicts.sort_order(names, values, sort)
    assert sorted(order.tolist()) == list(range(n))
    if sort != "name":
        missing = np.isnan(values[order])
        assert not (missing[:-1] & ~missing[1:]).any()  # no value after a missing one
        assert (np.diff(values[order][~missing]) <= 0).all()


def test_one_region_keeps_its_icbs_and_their_verdicts(real_icbs, compared):
    table = compared[0].set_index("area_code")
    london = _ranked(real_icbs, "2024/25", region="Y56").table.set_index("area_code")
    assert len(london) == 5 and set(london["region"]) == {"London"}
    pd.testing.assert_series_equal(london["vs_england"], table.loc[london.index, "vs_england"])
    assert len(_ranked(real_icbs, "2024/25", region=None).table) == 42


def test_no_rate_says_why(suppressed):
    table, _ = suppressed
    gone = table[table["rate"].isna()]
    assert len(gone) >= 1
    assert (gone["missing"] == "suppressed").all() and gone["suppressed"].all()
    assert (gone["note"] == verdicts.SUPPRESSED_NOTE).all()
    for col in ("vs_england", "vs_adjusted", "vs_fingertips", "vs_target"):
        assert (gone[col] == "suppressed").all()
    assert (table.loc[table["rate"].notna(), "missing"] == "").all()
    # Without the suppressed flag, "no data"; unreliable rounded counts say so.
    plain = pd.DataFrame({"rate": [np.nan, np.nan, 50.0], "suppressed": [False, False, True],
                          "status": ["no data", "not reliable", "rounded"]})
    assert list(verdicts.why_no_rate(plain)) == ["no data", "not reliable", ""]


def test_text_names_the_highlighted_icb_region_order_and_missing(real_icbs, compared, suppressed):
    table, england, _, _ = compared
    text = explore.describe_compare(table, england, "2024/25", "Total", highlight="QHL")
    # Birmingham and Solihull's published 2024/25 rate, 41st of 42.
    assert "The highlighted ICB, NHS Birmingham and Solihull ICB: 47.7%, 41st highest of 42" in text
    assert "Listed from the highest rate to the lowest." in text
    london = _ranked(real_icbs, "2024/25", region="Y56", sort="name").table
    text = explore.describe_compare(london, england, "2024/25", "Total", highlight="QHL",
                                    highlight_name="NHS Birmingham and Solihull ICB",
                                    region="London", total=42, sort="name")
    assert "across 5 ICBs in the London region (of 42 in England)" in text
    assert "compared with England, not with the region" in text
    assert "The highlighted ICB, NHS Birmingham and Solihull ICB, is not in the London region." in text
    # Highest and lowest by rate whatever the order.
    top = london.sort_values("rate").iloc[-1]
    assert f"Highest {top['area']}" in text and text.endswith("Listed by name.")
    table, england = suppressed
    text = explore.describe_compare(table, england, "Q", "Black or Black British")
    gone = table[table["rate"].isna()]
    assert f"{len(gone)} ICB" in text and f"{gone['area'].iat[0]} (suppressed)" in text


def test_table_marks_the_highlighted_icb_with_words(real_icbs, compared):
    table = compared[0]
    shown = tables.compare_table(table, "recovery", "QHL").to_pandas()
    assert shown.columns[0] == tables.HIGHLIGHTED_ICB
    names = shown[tables.HIGHLIGHTED_ICB]
    assert names[names.str.startswith(tables.HIGHLIGHTED)].tolist() == [
        tables.HIGHLIGHTED + "NHS Birmingham and Solihull ICB"]
    assert sorted(names.str.removeprefix(tables.HIGHLIGHTED)) == sorted(table["area"])
    # Not in the table (another region): the column is headed as usual.
    assert tables.compare_table(
        _ranked(real_icbs, "2024/25", region="Y56").table, "recovery", "QHL").column_names[0] \
        == "ICB"


def test_funnel_rows_hold_every_icb_and_the_limits_neutralised(compared):
    table, england, info, used = compared
    limits = ranking.funnel_limits(table, england["rate"], info.tau2 if used else 0.0)
    hostile = table.copy()
    hostile.loc[hostile.index[0], "area_name"] = "=HYPERLINK(\"http://x\")"
    rows = ranking.funnel_rows(hostile, limits, used)
    icbs, lines = rows[rows["row"] == "ICB"], rows[rows["row"] == "limit"]
    assert len(icbs) == 42 and icbs["area_code"].is_unique
    assert list(icbs["compared_with_england"]) == list(table["vs_england"])
    assert {"compared_allowing_for_spread", "compared_unadjusted", "against_target",
            "ci95_low", "numerator"} <= set(rows.columns)
    assert len(lines) == 5 * len(limits)
    for name, column in (("England", "baseline"), ("99.8% upper", "high998")):
        np.testing.assert_allclose(lines.loc[lines["limit"] == name, "rate"],
                                   limits[column].to_numpy())
    assert set(rows["limits_rule"]) == {"allowing for overdispersion (Spiegelhalter 2005)"}
    parsed = list(csv.DictReader(io.StringIO(export.to_csv(rows))))
    assert parsed[0]["area_name"] == "'=HYPERLINK(\"http://x\")"
    assert all(v not in ("None", "nan", "NaN", "null") for r in parsed for v in r.values())
    # Without an England rate: the ICBs alone.
    assert set(ranking.funnel_rows(table, pd.DataFrame(), False)["row"]) == {"ICB"}


def test_a_region_with_no_icb_shown_keeps_the_table_whole():
    """A region whose ICBs have no rows in the period: the ranking still counts every ICB,
    and its empty table, chart and text are made from the same columns as any other, with the
    same column types (text stays text, not objects or floats)."""
    frame = pd.concat([real.year(y) for y in real.YEARS], ignore_index=True)
    london = (frame["level"] == "ICB") & (frame["parent_code"] == "Y56")
    ex = explore.Explorer(frame[~(london & (frame["period"] == "2024/25"))])
    whole = _ranked(ex, "2024/25")
    empty = _ranked(ex, "2024/25", region="Y56")
    assert empty.region == "Y56" and empty.total == whole.total == 37
    assert len(empty.table) == 0
    assert empty.table.dtypes.astype(str).to_dict() == whole.table.dtypes.astype(str).to_dict()
    shown = tables.compare_table(empty.columns)
    assert shown.num_rows == 0 and shown.schema.field("ICB").type == "large_string"
    assert descriptions.describe_compare(empty.columns, {"rate": empty.england}, "2024/25", "Total",
                                   region="London", total=empty.total).startswith(
        "No ICB in the London region")


def test_a_rate_known_only_as_a_range_is_drawn_and_said_not_compared():
    """Where an ICB's "not at caseness" count was withheld its rate is a range, drawn as a
    point and a bar; it has no denominator to compare with England, and the chart, the
    table and the text called it "no data" beside the drawn point (review, 2026-11-28). Real
    figures: the bundled store's published 2019/20 year, rebuilt into the 2022 ICBs."""
    from core import charts

    ex = explore.Explorer(Store().load()).in_boundaries(None)
    r = ranking.rank_icbs(ex, "2019/20", "Other Ethnic Groups", "reliable_recovery")
    t = r.table
    ranged = t["status"].to_numpy() == "range"
    assert ranged.any() and np.isfinite(t["rate"].to_numpy("float64")[ranged]).all()
    assert set(t["vs_england"][ranged]) == {verdicts.RANGE_NOT_COMPARED}
    assert set(t["vs_fingertips"][ranged]) == {verdicts.RANGE_NOT_COMPARED}
    assert verdicts.NOT_COMPARED not in set(t["vs_england"][~t["rate"].isna()])
    shown = tables.compare_table(t, "reliable_recovery").to_pandas()
    assert (shown["Compared with England"] == verdicts.RANGE_NOT_COMPARED).sum() == ranged.sum()
    spec = charts.compare_spec(t, r.england, title="t", measure="reliable_recovery")
    domains = [e["scale"]["domain"] for layer in spec["layer"] for e in
               layer.get("encoding", {}).values() if isinstance(e, dict)
               and e.get("field") == "vs_england"]
    assert domains and all(verdicts.RANGE_NOT_COMPARED in d for d in domains)
    assert all("no data" not in d for d in domains)  # every drawn point is compared or ranged
    text = explore.describe_compare(t, {"rate": r.england}, "2019/20", "Other Ethnic Groups")
    assert f"{ranged.sum()} {verdicts.RANGE_NOT_COMPARED}" in text
    from core import map_chart

    def map_domains(table) -> list[list[str]]:
        spec = map_chart.map_spec(table, "2022", title="t", colour_by="band")
        found = []

        def walk(node):
            if isinstance(node, dict):
                if node.get("field") == "vs_england" and "domain" in node.get("scale", {}):
                    found.append(node["scale"]["domain"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(spec)
        return found

    with_ranges, without = map_domains(t), map_domains(_ranked(ex, "2024/25").table)
    assert with_ranges and all(verdicts.RANGE_NOT_COMPARED in d for d in with_ranges)
    # In the key only where an ICB has it.
    assert without and not any(verdicts.RANGE_NOT_COMPARED in d for d in without)
