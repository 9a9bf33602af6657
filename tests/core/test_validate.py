"""From kept rows to the model: complete rows, possible periods, sums without partial parts,
levels and regions as published (core.validate, core.terms)."""

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import readers, validate
from core.errors import InputError
from tests.conftest import REAL, area_rows, needs_shared, quarterly_csv, small_quarter

TODAY = dt.date(2026, 11, 26)


def read(data: bytes, name: str = "q.csv", **kw):
    return readers.read_file(data, name, today=TODAY, **kw)


def many_areas(n: int = 60) -> list[list[str]]:
    rows = []
    for i in range(n):
        rows += area_rows(level="SubICB", code=f"{i:02d}X", finished="300", nac="15",
                          recovered="140", reliable="130", pct="49")
    return rows


# --- complete files only (issue 13) ------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(keep_lines=st.integers(8, 361))
def test_file_cut_at_a_line_break_is_refused(keep_lines):
    data = quarterly_csv(many_areas())
    cut = b"\n".join(data.split(b"\n")[:keep_lines]) + b"\n"  # head -n keep_lines
    # Each area has six rows: four counts, then two percentages.
    if (keep_lines - 1) % 6 not in (1, 2, 3):
        read(cut)  # every area it holds has its four counts
        return
    with pytest.raises(InputError, match="incomplete: .* has .* but no row for") as e:
        read(cut)
    first_of_last_area = 2 + 6 * ((keep_lines - 2) // 6)
    assert e.value.row == first_of_last_area


def test_missing_measure_row_in_the_middle_is_refused():
    rows = many_areas(5)
    del rows[6 + 3]  # the second area's reliable recovery
    with pytest.raises(InputError, match="01X Total .* no row for reliable recovered") as e:
        read(quarterly_csv(rows))
    assert e.value.row == 8


def test_suppressed_counts_are_complete():
    r = read(quarterly_csv(area_rows(nac="*", reliable="*")))
    assert r.frame.iloc[0]["suppressed"] and pd.isna(r.frame.iloc[0]["reliable_recovered"])


def test_file_without_a_measure_anywhere_is_complete():
    # Files before 2020 carry no reliable recovery at all: nothing is missing from any row.
    rows = [r for r in small_quarter() if r[12] != "M193"]
    assert read(quarterly_csv(rows)).frame["reliable_recovered"].isna().all()


def test_areas_capped_with_the_limit_in_the_error(monkeypatch):
    monkeypatch.setattr(validate, "MAX_AREAS", 10)
    with pytest.raises(InputError, match="60 areas, more than the 10"):
        read(quarterly_csv(many_areas()))


# --- periods -----------------------------------------------------------------------------------


@pytest.mark.parametrize("start,end,message", [
    ("1900-04-01", "1900-06-30", "before April 2008"),
    ("2008-01-01", "2008-03-31", "before April 2008"),
    ("2020-07-01", "2020-09-30", "2020/21 Q2 was never published"),
    ("2026-10-01", "2026-12-31", "from the future"),
])
def test_impossible_quarters_refused(start, end, message):
    with pytest.raises(InputError, match=message) as e:
        read(quarterly_csv(area_rows(start=start, end=end)))
    assert e.value.row == 2 and e.value.column == "REPORTING_PERIOD_START"


def test_first_quarter_of_the_programme_accepted():
    rows = area_rows(start="2008-04-01", end="2008-06-30", level="England", code="ENG")
    assert read(quarterly_csv(rows)).periods == [
        "2008/09 Q1"]


# --- sums without partial parts (issue 11) -----------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(parts=st.lists(st.tuples(st.integers(20, 500), st.booleans()), min_size=2, max_size=4))
def test_broad_group_from_detailed_groups_never_a_partial_sum(parts):
    names = ["Indian", "Pakistani", "Bangladeshi", "Chinese"]
    rows = []
    for (finished, suppressed), name in zip(parts, names, strict=False):
        rows += area_rows(vtype="Ethnic Group", va="Asian or Asian British", vb=name,
                          finished=str(finished), nac="*" if suppressed else "5",
                          recovered="10", reliable="5")
    f = read(quarterly_csv(rows)).frame
    broad = f[f["breakdown"] == "Ethnic Group"].iloc[0]
    assert broad["finished"] == sum(p[0] for p in parts)
    assert broad["recovered"] == 10 * len(parts)
    if any(p[1] for p in parts):
        assert pd.isna(broad["not_at_caseness"]) and broad["suppressed"]
    else:
        assert broad["not_at_caseness"] == 5 * len(parts) and not broad["suppressed"]


# --- BME and White British from the ethnic groups (issue 9) ------------------------------------


def ethnic_rows(nac_irish: str = "5") -> list[list[str]]:
    rows = []
    for va, finished in (("Asian or Asian British", 100), ("Black or Black British", 80),
                         ("Mixed", 40), ("Other Ethnic Groups", 30), ("White", 900),
                         ("Not stated/Not known/Invalid", 50)):
        rows += area_rows(vtype="Ethnic Group", va=va, vb="All", finished=str(finished),
                          nac="5", recovered="20", reliable="10")
    for vb, finished, nac in (("British", 800, "5"), ("Irish", 20, nac_irish),
                              ("Any other White background", 80, "5")):
        rows += area_rows(vtype="Ethnic Group", va="White", vb=vb, finished=str(finished),
                          nac=nac, recovered="20", reliable="10")
    return rows


def test_bme_and_white_british_derived_where_not_published():
    r = read(quarterly_csv(ethnic_rows()))
    bme = r.frame[r.frame["breakdown"] == "BME Group"].set_index("group")
    assert bme.loc["BME", "finished"] == 100 + 80 + 40 + 30 + 20 + 80
    assert bme.loc["BME", "recovered"] == 6 * 20
    assert bme.loc["White British", "finished"] == 800
    assert r.derived_groups == 2


def test_derived_bme_unknown_when_a_part_is_suppressed():
    f = read(quarterly_csv(ethnic_rows(nac_irish="*"))).frame
    bme = f[(f["breakdown"] == "BME Group") & (f["group"] == "BME")].iloc[0]
    assert pd.isna(bme["not_at_caseness"]) and bme["finished"] == 350 and bme["suppressed"]


def test_published_bme_not_derived_again():
    rows = ethnic_rows() + area_rows(vtype="BME Group", va="BME", finished="350", nac="30",
                                     recovered="120", reliable="60")
    f = read(quarterly_csv(rows)).frame
    assert len(f[f["breakdown"] == "BME Group"]) == 1


# --- real annual files: levels, regions, derived BME ------------------------------------------


@pytest.fixture(scope="module")
def real_annual():
    from tests.conftest import annual_csv, annual_frames

    frames = annual_frames()
    return {y: readers.read_file(annual_csv(w, y), f"annual-{y}.csv").frame
            for y, w in frames.items() if y in ("2017-18", "2018-19", "2021-22", "2022-23")}


@needs_shared()
def test_real_levels_as_published(real_annual):
    for year in ("2017-18", "2021-22"):
        levels = set(real_annual[year]["level"])
        assert {"STP", "CCG"} <= levels and not levels & {"ICB", "SubICB"}, year
    f = real_annual["2022-23"]
    assert not set(f["level"]) & {"STP", "CCG"}
    assert f.loc[f["level"] == "ICB", "area_code"].nunique() == 42
    assert f.loc[f["level"] == "ICB", "parent_code"].notna().all()


@needs_shared()
def test_real_regions_are_the_current_seven(real_annual):
    current = {"Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"}
    for year, f in real_annual.items():
        assert set(f.loc[f["level"] == "Region", "area_code"]) <= current, year
    old = real_annual["2018-19"].query("level == 'FormerRegion'")
    assert set(old["area_code"]) == {"Y54", "Y55"}
    assert old["area_name"].str.contains("former NHS region").all()
    assert set(real_annual["2018-19"].query("level == 'Region'")["area_code"]) == {
        "Y56", "Y58", "Y59"}


@needs_shared()
def test_real_england_2017_18_derived_bme_equals_hand_sum(real_annual):
    tidy = pd.read_parquet(REAL / "annual_recovery_2017-18_to_2024-25.parquet")
    eng = tidy[(tidy["reporting_period"] == "2017-18") & (tidy["org_type"] == "England")
               & (tidy["variable_type"] == "Ethnic Group") & (tidy["measure_statistic"] == "count")]
    broad = eng["variable_a"].isin(["Asian or Asian British", "Black or Black British", "Mixed",
                                    "Other Ethnic Groups"]) & (eng["variable_b"] == "All")
    white_other = (eng["variable_a"] == "White") & eng["variable_b"].isin(
        ["Irish", "Any Other White Background", "Gypsy or Irish Traveller"])
    hand = eng[broad | white_other].assign(v=lambda d: d["value"].astype(int)).groupby(
        "measure_name")["v"].sum()
    f = real_annual["2017-18"]
    bme = f[(f["level"] == "England") & (f["group"] == "BME")].iloc[0]
    assert bme["breakdown"] == "BME Group"
    assert bme["finished"] == hand["finished_course_treatment"]
    assert bme["not_at_caseness"] == hand["not_at_caseness"]
    assert bme["recovered"] == hand["recovery"]
    assert bme["reliable_recovered"] == hand["reliable_recovery"]
    wb = f[(f["level"] == "England") & (f["group"] == "White British")].iloc[0]
    british = eng[(eng["variable_a"] == "White") & (eng["variable_b"] == "British")]
    assert wb["finished"] == int(british.loc[british["measure_name"] == "finished_course_treatment",
                                             "value"].iloc[0])


def test_a_kept_row_without_a_measure_is_refused_not_put_under_the_last_measure(monkeypatch):
    """pandas.factorize codes a missing measure -1, which numpy reads as the last column: a row
    misread upstream once overwrote reliable recovery without a word (a helper's review)."""
    parse = validate.parse_values

    def lose_one_measure(df, *args):
        df = parse(df, *args)
        df.loc[df.index[7], "measure"] = None
        return df
    monkeypatch.setattr(validate, "parse_values", lose_one_measure)
    with pytest.raises(InputError, match="its measure could not be read") as e:
        read(quarterly_csv(small_quarter()))
    assert e.value.row == 9
