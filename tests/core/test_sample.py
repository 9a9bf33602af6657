"""The bundled synthetic sample: deterministic, in the published layouts, read by the real
readers, and marked synthetic in the store."""

from __future__ import annotations

import datetime as dt

import pandas as pd

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
    assert r.frame.groupby("level")["area_code"].nunique().to_dict()["STP"] == 42  # issue 10: STPs stay STPs
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


def test_bundled_store_is_marked_synthetic_and_has_the_gap():
    f = Store().load()
    assert f["synthetic"].all()
    quarters = set(f.loc[f["period_type"] == "quarter", "period"])
    assert "2020/21 Q2" not in quarters and {"2018/19 Q1", "2026/27 Q1"} <= quarters
    eng = f[(f["level"] == "England") & (f["group"] == "Total")]
    rate = 100 * eng["recovered"].sum() / (eng["finished"].sum() - eng["not_at_caseness"].sum())
    assert 49 < rate < 53  # about 50%, like the published series
