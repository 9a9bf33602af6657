"""Rebuild real published rates from the real annual counts in ../shared.

The tidy parquet in shared is laid out as the annual CSVs NHS England publishes (under the real
header of each generation), read by our annual reader, and the rates we compute from counts are
compared with the percentages NHS England published.
"""

import pandas as pd
import pytest

from core import readers, stats
from tests.conftest import annual_csv, annual_frames, needs_shared

pytestmark = needs_shared()


@pytest.fixture(scope="module")
def annual():
    frames = annual_frames()
    out = {}
    for year, wide in frames.items():
        data = annual_csv(wide, year)
        out[year] = readers.read_file(data, f"psych-ther-annual-{year}.csv").frame
    return out


def test_both_header_generations_read(annual):
    assert set(annual) == {f"{y}-{(y + 1) % 100:02d}" for y in range(2017, 2025)}
    for year, frame in annual.items():
        assert frame["recovered"].notna().sum() > 100, year
        assert set(frame["period_type"]) == {"year"}


def test_england_rates_equal_published(annual):
    published = {"2017-18": 50.8, "2018-19": 52.1, "2019-20": 51.1, "2020-21": 51.4,
                 "2021-22": 50.2, "2022-23": 49.9, "2023-24": 50.1, "2024-25": 50.5}
    for year, frame in annual.items():
        eng = stats.add_rates(frame[frame["level"] == "England"])
        for _, row in eng.iterrows():
            if pd.notna(row["published_rate"]) and pd.notna(row["rate"]):
                assert row["rate"] == pytest.approx(row["published_rate"], abs=0.1), (
                    year, row["group"])
        total = eng[eng["group"] == "Total"].iloc[0]
        assert round(total["rate"], 1) == published[year]


def test_england_bme_gap_as_published(annual):
    eng = stats.add_rates(annual["2024-25"].query("level == 'England'")).set_index("group")
    assert round(eng.loc["BME", "rate"], 1) == 47.7
    assert round(eng.loc["White British", "rate"], 1) == 51.8


def test_every_icb_total_and_bme_within_rounding(annual):
    checked = 0
    for _year, frame in annual.items():
        icb = frame[frame["level"].isin(["ICB", "STP"]) & frame["group"].isin(["Total", "BME"])]
        rated = stats.add_rates(icb)
        ok = rated["published_rate"].notna() & rated["rate"].notna()
        diff = (rated.loc[ok, "rate"] - rated.loc[ok, "published_rate"]).abs()
        worst = rated.loc[ok].assign(diff=diff).sort_values("diff").tail(1)
        assert diff.max() <= 1.5, worst[["area_code", "group", "numerator", "denominator",
                                         "rate", "published_rate"]].to_dict("records")
        checked += int(ok.sum())
    assert checked > 300


def test_detailed_groups_normalised(annual):
    groups = set(annual["2024-25"]["group"])
    assert "Any other Asian background" in groups
    assert "Any Other Asian Background" not in groups
    detailed = annual["2019-20"].query("breakdown == 'Ethnic Group (detailed)'")
    assert "Any other Asian background" in set(detailed["group"])


def test_real_files_read_every_level_and_a_renamed_one_is_named():
    """Every OrgType of the real annual files is read (no warning of levels not read); the
    2024-25 file with England's OrgType renamed 'National' names it in its warnings."""
    frames = annual_frames()
    for year, wide in frames.items():
        result = readers.read_file(annual_csv(wide, year), f"psych-ther-annual-{year}.csv")
        assert result.unread_levels == (), year
    renamed = frames["2024-25"].assign(OrgType=lambda f: f["OrgType"].replace(
        {"England": "National"}))
    result = readers.read_file(annual_csv(renamed, "2024-25"), "psych-ther-annual-2024-25.csv")
    assert result.unread_levels == ("National",)
    assert any("OrgType 'National' were not read" in w for w in result.warnings)
