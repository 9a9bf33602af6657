"""The sidebar state's URL form: what survives, what is dropped."""

from core import explore
from core.store import Store
from ui.state import MAX_AREAS, MAX_POPULATIONS, Selection, from_params

EX = explore.Explorer(Store().load())


def test_round_trip():
    s = Selection(view="ICB", icb="QOQ", population="Mixed", measure="reliable_recovery",
                  areas=["QF7", "Y56"], show_ci=False, show_england=False,
                  icb_chosen=True)  # a link naming an ICB chooses it
    assert from_params(s.to_params(), EX) == s


def test_defaults_and_limits():
    s = from_params({}, EX)
    assert (s.view, s.population, s.measure, s.show_ci) == ("National", "Total", "recovery", True)
    codes = list(EX.areas["area_code"])
    many = ",".join(f"{c}~Total" for c in codes[:20])
    assert len(from_params({"cmp": many}, EX).compare) == MAX_POPULATIONS
    assert len(from_params({"view": "ICB", "areas": ",".join(codes[:10])}, EX).areas) == MAX_AREAS


def test_default_icb_is_one_rule_however_the_page_is_opened():
    """A link to the ICB view without an ICB, a link to the national view, and no link at all
    all give the ICB the picker offers first (it was the first by code from a link, the first
    by region otherwise)."""
    first_offered = EX.icbs[0]
    assert first_offered != sorted(EX.icbs)[0]  # the two old rules differ on this store
    for params in ({}, {"view": "ICB"}, {"view": "National"}, {"view": "ICB", "icb": "NOPE"}):
        assert from_params(params, EX).icb == first_offered, params


def test_series_for_views():
    national = Selection(population="BME", compare=["QHM~Total", "ENG~BME"])
    keys = national.series(EX)
    assert keys[0] == explore.SeriesKey("England", "ENG", "BME")
    assert len(keys) == 2  # the duplicate of the main series is dropped
    icb = Selection(view="ICB", icb="QWO", population="Asian or Asian British", areas=["QF7"])
    groups = [(k.area_code, k.group) for k in icb.series(EX)]
    assert groups == [("QWO", "Total"), ("QWO", "BME"), ("QWO", "Asian or Asian British"),
                      ("QF7", "Total"), ("QF7", "BME"), ("ENG", "Asian or Asian British")]


def test_long_or_odd_values_dropped():
    s = from_params({"icb": "Q" * 1000, "pop": ["BME"], "view": 3}, EX)
    assert s.icb == EX.default_icb and s.population == "Total" and s.view == "National"


def test_period_type_round_trip_and_default():
    """The URL carries the period type; an unknown one gives the store's default (the
    published financial year with the bundled store), and rolling is quarterly only."""
    assert from_params({}, EX).period == EX.default_period_type == "year"
    for kind in ("quarter", "year"):
        s = Selection(period=kind, rolling=True)
        assert s.to_params()["period"] == kind
        back = from_params(s.to_params(), EX)
        assert (back.period, back.rolling) == (kind, kind == "quarter")
    for bad in ("month", "Quarter", "<script>", "q" * 500):
        assert from_params({"period": bad}, EX).period == "year"
    year = Selection(period="year", rolling=True)
    assert not year.rolling_on and "roll" not in year.to_params()
    assert Selection(period="quarter", rolling=True).rolling_on


def test_page_controls_round_trip_and_validation():
    """Compare's and the inequalities page's own controls live in the URL too; values the store
    does not hold are dropped (a quarter on the financial-year view means "the latest")."""
    years = EX.published("year")
    s = Selection(period="year", icb=EX.in_boundaries("2026").default_icb, at=years[2],
                  unadjusted=True, detailed=True, sort="name",
                  region="Y56", boundaries="2026", since=years[1])
    params = s.to_params()
    assert {k: params[k] for k in ("at", "adj", "det", "sort", "region", "bnd", "since")} == {
        "at": years[2], "adj": "0", "det": "1", "sort": "name", "region": "Y56", "bnd": "2026",
        "since": years[1]}
    assert from_params(params, EX) == s
    plain = Selection(period="year").to_params()
    assert not {"at", "adj", "det", "sort", "region", "bnd", "since"} & set(plain)
    odd = from_params({"period": "year", "at": "2020/21 Q3", "sort": "<b>", "region": "Y99",
                       "bnd": "1999", "since": "x" * 500}, EX)
    assert (odd.at, odd.sort, odd.region, odd.boundaries, odd.since) == (
        None, "rate", None, None, None)
