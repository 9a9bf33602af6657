"""The bundled store carries NHS England's real annual figures, loaded through our own readers.

The first tests read only ``data/recovery.parquet`` (what a fresh clone and Community Cloud
have); the build itself needs ``../shared`` and is skipped with a reason where it is absent.
"""

from __future__ import annotations

import pandas as pd
import pytest

from core import model, stats
from core.store import Store
from scripts import build_real
from tests.conftest import REAL, needs_shared

RECENT = ["2022/23", "2023/24", "2024/25"]


@pytest.fixture(scope="module")
def bundled() -> pd.DataFrame:
    return Store(model.DEFAULT_STORE).load()


def _years(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["period_type"] == "year"]


def test_england_2024_25_is_the_published_rate(bundled):
    eng = _years(bundled).query("level == 'England' and group == 'Total' and period == '2024/25'")
    assert len(eng) == 1
    row = stats.add_rates(eng).iloc[0]
    assert row["rate"] == pytest.approx(50.5, abs=0.05)
    assert row["published_rate"] == 50.5
    assert round(row["rate"], 1) == row["published_rate"]


def test_every_icb_total_and_bme_within_rounding_of_the_published_whole_number(bundled):
    icb = _years(bundled)
    icb = icb[(icb["level"] == "ICB") & icb["period"].isin(RECENT)
              & icb["group"].isin(["Total", "BME"])]
    rated = stats.add_rates(icb)
    # Every ICB of 2022-2026, both groups, three years: nothing silently missing.
    assert rated.groupby(["period", "group"])["area_code"].nunique().eq(42).all()
    assert len(rated) == 42 * 2 * 3
    assert rated["rate"].notna().all() and rated["published_rate"].notna().all()
    assert (rated["published_rate"] % 1 == 0).all()  # sub-national: whole numbers
    diff = (rated["rate"] - rated["published_rate"]).abs()
    worst = rated.assign(diff=diff).sort_values("diff").tail(1)
    assert diff.max() <= 1.5, worst[["period", "area_code", "group", "rate",
                                     "published_rate"]].to_dict("records")


def test_published_years_are_not_synthetic_and_say_which_file(bundled):
    years = _years(bundled)
    assert set(RECENT) <= set(years["period"])
    assert not years["synthetic"].any()
    recent = years[years["period"].isin(RECENT)]
    assert set(recent["source"]) == {f"psych-ther-ann-{y}.csv"
                                     for y in ("2022-23", "2023-24", "2024-25")}
    # The quarterly sample is still there, and still marked synthetic.
    quarters = bundled[bundled["period_type"] == "quarter"]
    assert len(quarters) and quarters["synthetic"].all()


def test_all_eight_years_and_the_credit_in_the_log(bundled):
    years = _years(bundled)
    assert sorted(years["period"].unique()) == [f"{y}/{(y + 1) % 100:02d}"
                                                for y in range(2017, 2025)]
    log = Store(model.DEFAULT_STORE).log()
    real = [e for e in log if not e["synthetic"]]
    assert len(real) == 1 and real[0]["credit"] == build_real.CREDIT
    assert real[0]["sources"] == [f"psych-ther-ann-{y}-{(y + 1) % 100:02d}.csv"
                                  for y in range(2017, 2025)]
    assert "Open Government Licence v3.0" in build_real.CREDIT


def test_missing_source_is_a_clear_error_and_writes_nothing(tmp_path, capsys):
    store = tmp_path / "recovery.parquet"
    with pytest.raises(build_real.BuildError, match="nope.parquet: no such file"):
        build_real.build(tmp_path / "nope.parquet", store, tmp_path / "profile.csv")
    assert not store.exists() and not (tmp_path / "profile.csv").exists()
    assert build_real.main(["--source", str(tmp_path / "nope.parquet"),
                            "--store", str(store)]) == 2
    assert "no such file" in capsys.readouterr().err and not store.exists()


# ----------------------------------------------------------------------------- needs ../shared


@needs_shared()
def test_annual_files_use_the_header_of_their_generation(tmp_path):
    tidy = build_real.load_tidy(build_real.DEFAULT_SOURCE)
    paths = build_real.write_annual_files(tidy, tmp_path, REAL)
    assert [p.name for p in paths] == [f"psych-ther-ann-{y}-{(y + 1) % 100:02d}.csv"
                                       for y in range(2017, 2025)]
    old = paths[2].read_text().splitlines()[0].split(",")
    new = paths[3].read_text().splitlines()[0].split(",")
    assert old == ["OrgType", "OrgCode", "OrgName", "VariableType", "VariableA", "VariableB",
                   "CountFinishedCourseTreatment", "CountNotAtCaseness", "CountRecovery",
                   "PercentageRecovery", "CountReliableRecovery", "PercentageReliableRecovery"]
    assert new == [*old[:6], "Count_FinishedCourseTreatment", "Count_NotAtCaseness",
                   "Count_Recovery", "Percentage_Recovery", "Count_ReliableRecovery",
                   "Percentage_ReliableRecovery"]
    # Only what the product uses, values exactly as published ("*" kept).
    wide = pd.read_csv(paths[-1], dtype=str, keep_default_na=False)
    assert set(wide["OrgType"]) == {"England", "Commissioning Region", "ICB"}
    assert set(wide["VariableType"]) == {"Total", "BME Group", "Ethnic Group"}
    assert (wide == "*").any().any()
    eng = wide[(wide["OrgType"] == "England") & (wide["VariableType"] == "Total")].iloc[0]
    assert (eng["Count_FinishedCourseTreatment"], eng["Count_NotAtCaseness"],
            eng["Count_Recovery"], eng["Percentage_Recovery"]) == ("670419", "35234", "321061",
                                                                   "50.5")


@needs_shared()
def test_committed_profile_is_derived_from_the_real_figures():
    tidy = build_real.load_tidy(build_real.DEFAULT_SOURCE)
    expected = build_real.profile_text(build_real.profile_table(tidy))
    assert build_real.PROFILE.read_bytes() == expected, (
        "data/reference/sample_profile.csv is stale: run python scripts/build_real.py")


@needs_shared()
@pytest.mark.timeout(600)  # a full build (the synthetic sample is most of it)
def test_a_fresh_build_makes_the_committed_store_log_and_profile(tmp_path):
    """One build in a new directory, compared with the committed files, which an earlier run
    in another process made: the build is deterministic across runs and the committed files
    are current (either failing shows here; two builds in one process took 3.5 minutes of
    the suite). The rows, the log apart from load times, and the profile byte for byte."""
    build_real.build(build_real.DEFAULT_SOURCE, tmp_path / "recovery.parquet",
                     tmp_path / "sample_profile.csv")
    stale = ("differs from a fresh build: the build is not deterministic, or the committed "
             "file is stale (run python scripts/build_real.py)")
    fresh, committed = Store(tmp_path / "recovery.parquet"), Store(model.DEFAULT_STORE)
    assert build_real._timeless(fresh.log()) == build_real._timeless(committed.log()), (
        f"data/recovery.parquet's log {stale}")
    pd.testing.assert_frame_equal(fresh.load(), committed.load(),
                                  obj=f"data/recovery.parquet {stale}")
    assert build_real.same_store(tmp_path / "recovery.parquet", model.DEFAULT_STORE)
    assert (tmp_path / "sample_profile.csv").read_bytes() == build_real.PROFILE.read_bytes(), (
        f"data/reference/sample_profile.csv {stale}")
