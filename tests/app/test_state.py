"""The sidebar state's URL form: what survives, what is dropped."""

from core import explore
from core.store import Store
from ui.state import MAX_AREAS, MAX_POPULATIONS, Selection, from_params

AREAS = explore.areas(Store().load())


def test_round_trip():
    s = Selection(view="ICB", icb="QOQ", population="Mixed", measure="reliable_recovery",
                  areas=["QF7", "Y56"], show_ci=False, show_england=False)
    assert from_params(s.to_params(), AREAS) == s


def test_defaults_and_limits():
    s = from_params({}, AREAS)
    assert (s.view, s.population, s.measure, s.show_ci) == ("National", "Total", "recovery", True)
    many = ",".join(f"{c}~Total" for c in AREAS["area_code"][:20])
    assert len(from_params({"cmp": many}, AREAS).compare) == MAX_POPULATIONS
    codes = ",".join(AREAS["area_code"][:10])
    assert len(from_params({"view": "ICB", "areas": codes}, AREAS).areas) == MAX_AREAS


def test_series_for_views():
    national = Selection(population="BME", compare=["QHM~Total", "ENG~BME"])
    keys = national.series(AREAS)
    assert keys[0] == explore.SeriesKey("England", "ENG", "BME")
    assert len(keys) == 2  # the duplicate of the main series is dropped
    icb = Selection(view="ICB", icb="QWO", population="Asian or Asian British", areas=["QF7"])
    groups = [(k.area_code, k.group) for k in icb.series(AREAS)]
    assert groups == [("QWO", "Total"), ("QWO", "BME"), ("QWO", "Asian or Asian British"),
                      ("QF7", "Total"), ("QF7", "BME"), ("ENG", "Asian or Asian British")]


def test_long_or_odd_values_dropped():
    s = from_params({"icb": "Q" * 1000, "pop": ["BME"], "view": 3}, AREAS)
    assert s.icb is None and s.population == "Total" and s.view == "National"
