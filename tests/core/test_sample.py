"""The bundled synthetic sample: deterministic, in the published layouts, read by the real
readers, and marked synthetic in the store."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from core import readers
from core.store import Store
from scripts import make_sample


def test_deterministic_and_read_by_the_real_readers(tmp_path):
    start = dt.date(2019, 10, 1)  # old layout: STP/CCG columns, no MEASURE_ID, dd/mm/yyyy
    a = make_sample.quarter_frame(make_sample.Model(), start)
    b = make_sample.quarter_frame(make_sample.Model(), start)
    pd.testing.assert_frame_equal(a, b)
    published = make_sample.as_published(a, start)
    assert "MEASURE_ID" not in published and "STP" in published
    assert published["REPORTING_PERIOD_START"].iloc[0] == "01/10/2019"
    path = make_sample.write_quarter(a, start, tmp_path)
    r = readers.read_file(path, today=dt.date(2026, 11, 26))
    assert r.periods == ["2019/20 Q3"]
    # issue 10: STPs stay STPs and CCGs stay CCGs, every one the file names.
    written = published.groupby("GroupType")[["STP", "CCG"]].nunique()
    read = r.frame.groupby("level")["area_code"].nunique()
    assert read["STP"] == written.at["STP", "STP"] and read["CCG"] == written.at["CCG", "CCG"]
    assert "ICB" not in read and "SubICB" not in read
    assert r.skipped  # the InvalidRegionCode row


def test_new_layout_is_a_zip_of_three(tmp_path):
    start = dt.date(2025, 1, 1)
    path = make_sample.write_quarter(make_sample.quarter_frame(make_sample.Model(), start),
                                     start, tmp_path)
    import zipfile

    names = zipfile.ZipFile(path).namelist()
    assert len(names) == 3 and any("ICB_subICB" in n for n in names)
    r = readers.read_file(path, today=dt.date(2026, 11, 26))
    eng = r.frame[(r.frame["level"] == "England") & (r.frame["group"] == "Total")]
    assert len(eng) == 1  # England counted once, though all three CSVs carry it


def test_bundled_store_quarters_are_marked_synthetic_and_have_the_gap():
    f = Store().load()
    q = f[f["period_type"] == "quarter"]
    assert len(q) and q["synthetic"].all()
    assert all(s.startswith(("iapt_quarterly", "nhstalkingtherapies_quarterly"))
               for s in set(q["source"]))  # the published-format sample files
    quarters = set(q["period"])
    assert "2020/21 Q2" not in quarters and {"2018/19 Q1", "2026/27 Q1"} <= quarters



def test_sample_england_rate_follows_the_published_years():
    """Each financial year's four synthetic England quarters, summed, against the real
    published annual row for that year (stored beside them, not synthetic)."""
    f = Store().load()
    eng = f[(f["level"] == "England") & (f["group"] == "Total")]
    real = eng[(eng["period_type"] == "year") & ~eng["synthetic"]].set_index("period")
    q = eng[eng["period_type"] == "quarter"]
    sample = q.groupby(q["period"].str[:7])[["finished", "not_at_caseness", "recovered"]].sum()
    years = sorted(set(sample.index) & set(real.index))
    assert len(years) >= 5, years

    def rate(d):
        return 100 * d["recovered"] / (d["finished"] - d["not_at_caseness"])

    diff = (rate(sample.loc[years]) - rate(real.loc[years]).astype(float)).abs()
    assert diff.max() < 2, diff.sort_values()


def test_sample_magnitudes_follow_each_icbs_real_figures():
    """Each ICB's four synthetic quarters of 2024/25 against its published 2024/25 row.

    The old sample drew ethnic shares at random (Birmingham's BME group was 4% of its total,
    against 42% published); now the size, the BME share and the rates follow the real ones.
    """
    f = Store().load()
    icb = f[(f["level"] == "ICB") & f["group"].isin(["Total", "BME"])]
    counts = ["finished", "not_at_caseness", "recovered"]
    sample = (icb[(icb["period_type"] == "quarter") & icb["period"].str.startswith("2024/25 Q")]
              .groupby(["area_code", "group"])[counts].sum())
    real = icb[icb["period"] == "2024/25"].set_index(["area_code", "group"])[counts]
    assert not icb.loc[icb["period"] == "2024/25", "synthetic"].any()
    assert len(real) == 84 and set(sample.index) == set(real.index)

    def rate(d):
        return 100 * d["recovered"] / (d["finished"] - d["not_at_caseness"])

    size = sample.xs("Total", level="group")["finished"] / real.xs("Total", level="group")["finished"]
    assert size.between(0.95, 1.05).all(), size.sort_values()
    share = {name: d.xs("BME", level="group")["finished"] / d.xs("Total", level="group")["finished"]
             for name, d in (("sample", sample), ("real", real))}
    gap = (share["sample"] - share["real"]).abs()
    assert gap.max() < 0.02, gap.sort_values().tail(3)
    assert share["sample"]["QHL"] == pytest.approx(0.42, abs=0.02)  # Birmingham and Solihull
    diff = (rate(sample) - rate(real)).abs()
    assert diff.max() < 5, diff.sort_values().tail(3)
    assert diff.median() < 1.5


def test_profile_is_required_and_checked(tmp_path):
    with pytest.raises(FileNotFoundError, match="build_real.py"):
        make_sample.Model(profile=tmp_path / "absent.csv")
    text = make_sample.PROFILE.read_text().splitlines()
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(line for line in text if ",Chinese," not in line))
    with pytest.raises(ValueError, match="one row for Total and for each group"):
        make_sample.Model(profile=broken)
