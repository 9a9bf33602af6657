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

from core import explore, export, ranking, tables, verdicts
from core.store import Store
from tests.core import real


@pytest.fixture(scope="module")
def compared():
    """Real 2024/25 ICBs compared with England, as the page builds them."""
    years = pd.concat([real.year(y) for y in real.YEARS], ignore_index=True)
    table, england = explore.Explorer(years).compare("2024/25", "Total", "recovery")
    table, info, used = verdicts.compare_areas(table, england)
    return verdicts.explain_missing(verdicts.with_rounding(table)), england, info, used


@pytest.fixture(scope="module")
def suppressed():
    """The bundled store's latest quarter for Black or Black British people: some ICBs' counts
    were withheld."""
    ex = explore.Explorer(Store().load())
    table, england = ex.compare(ex.published("quarter")[-1], "Black or Black British")
    table, _, _ = verdicts.compare_areas(table, england)
    return verdicts.explain_missing(verdicts.with_rounding(table)), england


def test_sorts(compared):
    table = compared[0]
    by_rate = verdicts.sort_areas(table, "rate")["rate"].to_numpy()
    assert (np.diff(by_rate) <= 0).all()
    names = verdicts.sort_areas(table, "name")["area"].tolist()
    assert names == sorted(names, key=str.casefold) and names[0].startswith("NHS Bath")
    den = verdicts.sort_areas(table, "size")["denominator"].to_numpy("float64")
    assert (np.diff(den) <= 0).all()
    with pytest.raises(ValueError, match="sort must be one of rate, name, size"):
        verdicts.sort_areas(table, "colour")


@settings(max_examples=60, deadline=None)
@given(rates=st.lists(st.one_of(st.none(), st.floats(0, 100)), min_size=1, max_size=30),
       sort=st.sampled_from(verdicts.SORT_KEYS))
def test_sort_keeps_every_row_and_puts_missing_values_last(rates, sort):
    n = len(rates)
    table = pd.DataFrame({"area": [f"NHS Area {i:02d} ICB" for i in range(n)],
                          "rate": pd.array(rates, dtype="Float64"),
                          "denominator": pd.array(rates, dtype="Float64")})
    out = verdicts.sort_areas(table, sort)
    assert sorted(out.index) == list(range(n))
    if sort != "name":
        missing = out["rate"].isna().to_numpy()
        assert not (missing[:-1] & ~missing[1:]).any()  # no value after a missing one


def test_one_region_keeps_its_icbs_and_their_verdicts(compared):
    table = compared[0]
    london = verdicts.in_region(table, "Y56")
    assert len(london) == 5 and set(london["region"]) == {"London"}
    pd.testing.assert_series_equal(london["vs_england"], table.loc[london.index, "vs_england"])
    assert verdicts.in_region(table, None) is table


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


def test_text_names_your_icb_region_order_and_missing(compared, suppressed):
    table, england, _, _ = compared
    text = explore.describe_compare(table, england, "2024/25", "Total", highlight="QHL")
    # Birmingham and Solihull's published 2024/25 rate, 41st of 42.
    assert "Your ICB, NHS Birmingham and Solihull ICB: 47.7%, 41st highest of 42" in text
    assert "Listed from the highest rate to the lowest." in text
    london = verdicts.sort_areas(verdicts.in_region(table, "Y56"), "name")
    text = explore.describe_compare(london, england, "2024/25", "Total", highlight="QHL",
                                    highlight_name="NHS Birmingham and Solihull ICB",
                                    region="London", total=42, sort="name")
    assert "across 5 ICBs in the London region (of 42 in England)" in text
    assert "compared with England, not with the region" in text
    assert "Your ICB, NHS Birmingham and Solihull ICB, is not in the London region." in text
    # Highest and lowest by rate whatever the order.
    top = london.sort_values("rate").iloc[-1]
    assert f"Highest {top['area']}" in text and text.endswith("Listed by name.")
    table, england = suppressed
    text = explore.describe_compare(table, england, "Q", "Black or Black British")
    gone = table[table["rate"].isna()]
    assert f"{len(gone)} ICB" in text and f"{gone['area'].iat[0]} (suppressed)" in text


def test_table_marks_your_icb_with_words(compared):
    table = compared[0]
    shown = tables.compare_table(table, "recovery", "QHL").to_pandas()
    assert shown.columns[0] == "Your ICB"
    assert shown.loc[shown["Your ICB"] == tables.YOURS, "ICB"].tolist() == [
        "NHS Birmingham and Solihull ICB"]
    # Not in the table (another region): no empty column.
    assert "Your ICB" not in tables.compare_table(verdicts.in_region(table, "Y56"),
                                                  "recovery", "QHL").column_names


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
