"""Exports carry full precision, and every exported rate is one the product can stand by."""

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

from core import export
from tests.conftest import needs_shared


def half_up(x: float) -> float:
    return float(Decimal(repr(float(x))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _frame(rows):
    import datetime as dt
    df = pd.DataFrame(rows, columns=["level", "finished", "not_at_caseness", "recovered"])
    for c in ("finished", "not_at_caseness", "recovered"):
        df[c] = pd.array(df[c].tolist(), dtype="Int64")
    df["reliable_recovered"] = df["recovered"]
    df["period"], df["period_type"] = "2024/25", "year"
    df["period_start"], df["period_end"] = dt.date(2024, 4, 1), dt.date(2025, 3, 31)
    df["area_code"] = [f"A{i}" for i in range(len(df))]
    for c in ("area_name", "parent_code", "parent_name", "source"):
        df[c] = "x"
    df["breakdown"], df["group"] = "Total", "Total"
    df["published_recovery"] = df["published_reliable"] = np.nan
    df["suppressed"], df["synthetic"] = df["not_at_caseness"].isna(), False
    df["derived"] = False
    return df


def test_full_precision_and_flags():
    long = export.to_long(_frame([
        ("England", 670_419, 35_234, 321_061),   # 50.546...%
        ("ICB", 15, 10, 10),                     # rounded counts giving 200%
        ("ICB", 100, None, 45),                  # suppressed not at caseness
    ]), ["recovery"]).set_index("area_code")
    eng = long.loc["A0"]
    assert eng["rate"] == pytest.approx(50.546061, abs=1e-6)
    assert half_up(eng["rate"]) == 50.5  # 50.55 (2 decimals) would re-round to 50.6
    assert eng["rate_status"] == "exact"
    bad = long.loc["A1"]
    assert pd.isna(bad["rate"]) and bad["rate_status"] == "not reliable"
    assert "Not reliable" in bad["note"]
    rng = long.loc["A2"]
    assert rng["rate_status"] == "range" and rng["rate_low"] < rng["rate"] < rng["rate_high"]
    assert rng["ci95_low"] <= rng["rate_low"] and rng["rate_high"] <= rng["ci95_high"]
    assert rng["ci998_low"] <= rng["ci95_low"] and rng["ci95_high"] <= rng["ci998_high"]
    text = export.to_csv(long.reset_index())
    assert "50.546061" in text


@needs_shared()
def test_real_exports():
    """Every exported England rate re-rounds to NHS England's published percentage; no
    exported rate, at any level, exceeds 100% or lies outside its intervals."""
    from tests.core import real

    england = 0
    for year in real.YEARS:
        long = export.to_long(real.year(year))
        eng = long[(long["level"] == "England") & long["published_rate"].notna()]
        for _, row in eng.iterrows():
            assert half_up(row["rate"]) == row["published_rate"], (year, row["group"],
                                                                   row["measure"], row["rate"])
        england += len(eng)
        shown = long[long["rate"].notna()]
        assert (shown["rate"] <= 100).all() and (shown["rate"] >= 0).all()
        assert ((shown["ci95_low"] <= shown["rate"]) & (shown["rate"] <= shown["ci95_high"])
                & (shown["ci998_low"] <= shown["ci95_low"])
                & (shown["ci95_high"] <= shown["ci998_high"])).all(), year
        decimals = shown["rate"].map(lambda v: len(repr(v).split(".")[-1]))
        assert decimals.max() >= 4
    assert england > 100
