from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import charts, descriptions, explore, export, ranking, readers, stats, tables
from core import names as names_module
from core.store import Store
from tests.conftest import area_rows, quarterly_csv


@pytest.fixture(scope="module")
def frame():
    return Store().load()


@pytest.fixture(scope="module")
def ex(frame):
    return explore.Explorer(frame)


def test_areas_and_labels(frame, ex):
    a = ex.areas
    assert a.iloc[0]["area_code"] == "ENG"
    icbs = a[a["level"] == "ICB"]
    stored = frame.loc[frame["level"] == "ICB", "area_code"].unique()
    assert sorted(icbs["area_code"]) == sorted(stored) and icbs["parent_name"].notna().all()
    assert ex.icbs == icbs["area_code"].tolist()
    row = icbs[icbs["area_code"] == "QF7"].iloc[0]
    assert explore.area_label(row) == "NHS South Yorkshire ICB (North East and Yorkshire)"
    assert ex.labels["QF7"] == "NHS South Yorkshire ICB (North East and Yorkshire)"


@pytest.mark.parametrize("raw,pretty", [
    ("NHS STAFFORDSHIRE AND STOKE-ON-TRENT INTEGRATED CARE BOARD",
     "NHS Staffordshire and Stoke-on-Trent ICB"),
    ("LONDON COMMISSIONING REGION", "London"),
    ("NHS CORNWALL AND THE ISLES OF SCILLY INTEGRATED CARE BOARD",
     "NHS Cornwall and the Isles of Scilly ICB"),
    ("Already Mixed Case", "Already Mixed Case"),
])
def test_pretty_name(raw, pretty):
    assert explore.pretty_name(raw) == pretty


def test_parse_series_rejects_unknown(ex):
    assert ex.parse_series("QHM~BME") == explore.SeriesKey("ICB", "QHM", "BME")
    for bad in ("QHM", "XXX~BME", "QHM~Martians", "~", "<b>~Total", "QHM~BME" * 30, None, 5):
        assert ex.parse_series(bad) is None


def test_trend_has_every_quarter_and_headline(ex, frame):
    keys = [explore.SeriesKey("England", "ENG", "Total")]
    t = ex.trend(keys)
    assert list(t["period"]) == explore.quarter_domain(frame)
    assert t.loc[t["period"] == "2020/21 Q2", "status"].item() == "not published"
    h = explore.headline(t)
    assert h["period"] == t.dropna(subset=["rate"]).iloc[-1]["period"]
    assert h["verdict"] in {"Meets the target", "Below the target",
                            "Not distinguishable from the target"}
    assert h["earlier_period"].endswith(h["period"][-2:])  # same quarter a year before
    text = explore.describe_trend(t)
    assert "England, Whole population" in text and "2020/21 Q2 was never published" in text
    assert h["verdict"].lower() in text


def test_a_measure_without_a_target_gets_no_target_verdict_in_words(ex):
    """Reliable recovery: the headline says the target does not apply, and so does the text
    alternative now ("below the target of 50%" beside "not applicable"; a helper's review)."""
    t = ex.trend([explore.SeriesKey("England", "ENG", "Total")], "reliable_recovery")
    assert explore.headline(t, "reliable_recovery")["verdict"] == "Not applicable"
    text = explore.describe_trend(t, "reliable_recovery")
    assert "target" not in text and "reliable recovery rate" in text, text


def test_compare_areas_bands(frame, ex):
    period = ex.latest
    r = ranking.rank_icbs(ex, period, "Total", "recovery", adjust=False)
    table, england = r.table, {"rate": r.england}
    stored = frame[(frame["level"] == "ICB") & (frame["period"] == period)
                   & (frame["group"] == "Total")]
    assert sorted(table["area_code"]) == sorted(stored["area_code"])
    better = table[table["vs_england"].str.startswith("better")]
    assert (better["ci95_low"] > england["rate"]).all()
    assert "ICBs" in explore.describe_compare(table, england, period, "Total")


def test_group_gap_matches_newcombe(ex):
    gap = ex.gap("England", "ENG")
    last = gap.dropna().iloc[-1]
    assert last["gap"] == pytest.approx(last["rate_a"] - last["rate_b"])
    assert last["gap_low"] < last["gap"] < last["gap_high"]


def test_export_long_shape(frame):
    rows = frame[(frame["level"] == "England") & (frame["group"] == "Total")]
    long = export.to_long(rows)
    assert list(long.columns) == export.EXPORT_COLUMNS
    assert set(long["measure"]) == {"recovery", "reliable_recovery"}
    assert len(long) == 2 * len(rows)


text = st.text(min_size=0, max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(text, st.integers(-10**6, 10**6), st.floats(allow_nan=False,
                                                                       allow_infinity=False)),
                min_size=1, max_size=10))
def test_neutralise_formulas_keeps_numbers(rows):
    df = pd.DataFrame(rows, columns=["name", "count", "rate"])
    names = df["name"].tolist()
    out = export.neutralise(df)
    assert df["name"].tolist() == names  # the caller's frame is left as it was
    for before, after in zip(df["name"], out["name"], strict=True):
        if before.startswith(export.FORMULA_PREFIXES):
            assert after == "'" + before
        else:
            assert after == before
    assert out["count"].tolist() == df["count"].tolist()
    assert out["rate"].tolist() == df["rate"].tolist()
    parsed = list(csv.reader(io.StringIO(export.to_csv(df), newline="")))
    assert all(not r[0].startswith(("=", "+", "-", "@")) for r in parsed[1:])


@settings(max_examples=60, deadline=None)
@given(
    finished=st.integers(1, 100_000),  # England's finished count is never 0 (refused)
    nac_share=st.floats(0, 1),
    rec_share=st.floats(0, 1),
    rel_share=st.floats(0, 1),
)
def test_reader_round_trips_counts(finished, nac_share, rec_share, rel_share):
    nac = int(finished * nac_share)
    rec = int((finished - nac) * rec_share)
    rel = int(rec * rel_share)
    data = quarterly_csv(area_rows(level="England", code="ENG", finished=str(finished),
                                   nac=str(nac), recovered=str(rec), reliable=str(rel)))
    f = readers.read_file(data, "q.csv", today=dt.date(2026, 11, 26)).frame
    row = f.iloc[0]
    assert (row["finished"], row["not_at_caseness"], row["recovered"],
            row["reliable_recovered"]) == (finished, nac, rec, rel)


def test_describe_gap_names_the_measure(ex):
    gap = ex.gap("England", "ENG", "reliable_recovery")
    text = explore.describe_gap(gap, "England", "reliable_recovery")
    assert "reliable recovery rate for Black, Asian" in text


def test_gap_in_words_says_when_it_is_not_the_difference_of_the_rounded_rates():
    """England 2024/25: 47.66% against 51.83% is a gap of 4.2 points, shown beside 47.7% and
    51.8% (a difference of 4.1 to a reader doing the sum; a helper's review)."""
    def gap(a: float, b: float) -> str:
        return explore.describe_gap(pd.DataFrame({
            "period": ["2024/25"], "group_a": ["BAME"], "group_b": ["White British"],
            "rate_a": [a], "rate_b": [b], "gap": [a - b], "gap_low": [a - b - 0.3],
            "gap_high": [a - b + 0.3], "significant": ["significant at 95%"]}), "England")
    text = gap(47.66, 51.83)
    assert "4.2 percentage points lower" in text
    assert "(47.7% against 51.8%, the difference taken before rounding;" in text
    assert "(47.6% against 51.7%;" in gap(47.64, 51.71)  # 4.07 and 4.1 alike: no word


SOME_SERIES = [
    explore.SeriesKey(level, code, group)
    for level, code in (("England", "ENG"), ("ICB", "QHM"), ("ICB", "QWE"), ("ICB", "NOPE"))
    for group in ("Total", "BME", "White British", "Mixed")
]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(st.sampled_from(SOME_SERIES), min_size=1, max_size=5, unique=True),
       measure=st.sampled_from(["recovery", "reliable_recovery"]))
def test_rolling_trend_sums_what_rolling_quarters_sums(ex, frame, keys, measure):
    """The trend's own array route for rolling sums agrees with the frame route."""
    domain = explore.quarter_domain(frame)
    data = ex.trend(keys, measure, domain=domain, rolling=True)
    assert len(data) == len(keys) * len(domain)
    rolled = stats.add_rates(stats.rolling_quarters(
        explore.Explorer(frame).series_rows(keys), relabel=False), measure)
    for order, key in enumerate(keys):
        mine = data[data["series_order"] == order].set_index("period")
        theirs = rolled[(rolled["area_code"] == key.area_code) & (rolled["group"] == key.group)
                        & (rolled["level"] == key.level)].set_index("period")
        theirs = theirs.reindex(domain)
        for column in ("numerator", "denominator", "rate", "ci95_low"):
            pd.testing.assert_series_equal(mine[column].astype(float), theirs[column].astype(float),
                                           check_names=False)
        assert (mine["suppressed"] == theirs["suppressed"].fillna(False).astype(bool)).all()


def test_display_tables_say_what_the_data_says(ex):
    """Each table a person reads holds the rows and rates of the data behind its chart."""
    domain = ex.quarters
    trend = ex.trend(SOME_SERIES[:3])
    table = ranking.rank_icbs(ex, domain[-1], "BME", "recovery").table
    gap = ex.gap("ICB", "QHM")
    groups = ex.groups("ICB", "QHM", ex.latest, detailed=True)
    for shown, data, ours, theirs, digits in (
            (explore.trend_table(trend), trend, "Recovery rate (%)", "rate", 1),
            (explore.compare_table(table), table, "Recovery rate (%)", "rate", 1),
            (explore.gap_table(gap), gap, "Difference (points)", "gap", 1),
            (explore.groups_table(groups), groups, "Rate (%)", "rate", 1)):
        assert shown.num_rows == len(data)
        pd.testing.assert_series_equal(
            shown.column(ours).to_pandas().astype(float),
            data[theirs].astype(float).round(digits).reset_index(drop=True), check_names=False)
    shown = explore.trend_table(trend, "reliable_recovery")
    names = shown.column_names
    # the answer first: the period and the line (as the legend names it: at 390 px two rows
    # of one year could not be told apart), the rate and its interval, then whose it is
    assert names[:7] == ["Period", "Series", "Reliable recovery rate (%)", "95% CI low (%)",
                         "95% CI high (%)", "Population", "Area"]
    series = shown.column("Series").to_pylist()
    assert series == names_module.distinguishing_names(trend) and len(set(series)) == 3
    rows = zip(series, shown.column("Area").to_pylist(), shown.column("Population").to_pylist(),
               strict=True)
    assert len({(s, a, p) for s, a, p in rows}) == 3  # one name per line, and only one
    # One line: no column repeating it on every row.
    one = explore.trend_table(ex.trend(SOME_SERIES[:1])).column_names
    assert "Series" not in one and one[1] == "Recovery rate (%)"
    assert names[names.index(tables.WHY) + 1] == "Reliably recovered"


@pytest.mark.parametrize("area", [("England", "ENG"), ("ICB", "QOQ"), ("Region", "Y56"),
                                  ("ICB", "NOPE")])
@pytest.mark.parametrize("detailed", [False, True])
def test_group_rows_hold_every_stored_column_and_the_charts_rates(frame, ex, area, detailed):
    """The groups CSV has every stored column of the rows the chart shows, in its order, and
    the rates the chart draws: from the summed counts where they give one, from rounding's
    range where a count was suppressed, as the trend's export (``export.to_long``) gives them
    for the same rows."""
    for period in ex.quarters[-8:]:
        for measure in ("recovery", "reliable_recovery"):
            shown = ex.groups(*area, period, measure, detailed)
            rows = ex.group_rows(*area, period, measure, detailed)
            assert list(rows.columns[:len(frame.columns)]) == list(frame.columns)
            assert rows["group"].tolist() == shown["group"].tolist()
            assert (rows["measure"] == measure).all()
            stored = frame[(frame["level"] == area[0]) & (frame["area_code"] == area[1])
                           & (frame["period"] == period)]
            allowed = {"Total", "BME Group", "Ethnic Group"} | (
                {"Ethnic Group (detailed)"} if detailed else set())
            assert len(rows) == stored["breakdown"].isin(allowed).sum()
            if not len(rows):
                continue
            summed = stats.add_rates(rows[list(frame.columns)], measure)
            for column in ("numerator", "denominator"):
                pd.testing.assert_series_equal(rows[column].astype(float),
                                               summed[column].astype(float))
            plain = rows["rate_status"].isin(["exact", "rounded", "approximate"]).to_numpy()
            pd.testing.assert_series_equal(rows["rate"][plain].astype(float),
                                           summed["rate"][plain].astype(float))
            long = export.to_long(rows[list(frame.columns)], [measure]).set_index(
                ["breakdown", "group"]).loc[list(zip(rows["breakdown"], rows["group"],
                                                     strict=True))]
            for column in ("rate", "ci95_low", "ci95_high", "ci998_low", "ci998_high",
                           "rate_low", "rate_high", "rate_status", "note"):
                mine, theirs = rows[column].to_numpy(), long[column].to_numpy()
                if column == "rate_status":
                    assert mine.tolist() == theirs.tolist(), column
                elif column == "note":  # a rate's note is rounding's; none says why
                    have = rows["rate"].notna().to_numpy()
                    assert mine[have].tolist() == theirs[have].tolist(), column
                    assert all(n for n in mine[~have]), column
                else:
                    assert mine.astype(float) == pytest.approx(theirs.astype(float),
                                                               abs=1e-6, nan_ok=True), column
                    assert shown[column].to_numpy(float) == pytest.approx(
                        mine.astype(float), nan_ok=True), column


def test_every_plotted_group_is_in_its_csv_with_the_charts_rate(ex):
    """Real 2024/25, Birmingham and Solihull, detailed groups: "Other Ethnic Groups: Chinese"
    has 'not at caseness' suppressed, so its rate is the middle of its range (55.1%, interval
    about 43 to 67). The chart draws it; the CSV once left it blank with "suppressed". Now
    every plotted row's rate and interval are the CSV's, with the range and why."""
    for level, code, detailed in (("ICB", "QHL", True), ("ICB", "QHL", False),
                                  ("England", "ENG", True), ("Region", "Y56", True)):
        spec = charts.groups_spec(ex.groups(level, code, "2024/25", detailed=detailed),
                                  title="t", frames=True)
        plotted = spec["datasets"]["groups"].to_pandas()
        rows = ex.group_rows(level, code, "2024/25", detailed=detailed)
        assert len(plotted) and rows["rate"].notna().sum() == len(plotted), code
        csv_rows = rows.assign(group_label=ex.groups(level, code, "2024/25",
                                                     detailed=detailed)["group_label"])
        merged = plotted.merge(csv_rows, on=["classification", "group_label"],
                               suffixes=("", "_csv"), validate="one_to_one")
        assert len(merged) == len(plotted)
        for column in ("rate", "ci95_low", "ci95_high"):
            assert merged[column].to_numpy(float) == pytest.approx(
                merged[f"{column}_csv"].to_numpy(float)), (code, column)
    chinese = ex.group_rows("ICB", "QHL", "2024/25", detailed=True).set_index("group").loc[
        "Chinese"]
    assert round(chinese["rate"], 1) == 55.1
    assert 42 < chinese["ci95_low"] < 44 and 66 < chinese["ci95_high"] < 68
    assert chinese["rate_low"] < chinese["rate"] < chinese["rate_high"]
    assert chinese["rate_status"] == "range" and bool(chinese["suppressed"])
    assert "'Not at caseness' was suppressed" in chinese["note"]
    assert "the rate lies between" in chinese["note"]


# --- Financial years, provenance, one label per group ----------------------------------------


def test_financial_years_from_the_real_rows(frame, ex):
    """The year view reads the stored annual rows: England 2024/25 is NHS England's 50.5%,
    from summed counts, every year published; the quarterly view is unchanged."""
    assert ex.period_types == ["quarter", "year"]
    assert ex.domain("year") == [f"{y}/{(y + 1) % 100:02d}" for y in range(2017, 2025)]
    assert ex.latest_of("year") == "2024/25" and ex.latest_of("quarter") == ex.latest
    eng = ex.trend([explore.SeriesKey("England", "ENG", "Total")], kind="year")
    row = eng.set_index("period").loc["2024/25"]
    stored = frame[(frame["period"] == "2024/25") & (frame["level"] == "England")
                   & (frame["group"] == "Total")].iloc[0]
    assert abs(row["rate"] - 50.5) < 0.05 and row["published_rate"] == 50.5
    assert row["numerator"] == stored["recovered"]
    assert row["denominator"] == stored["finished"] - stored["not_at_caseness"]
    assert not eng["synthetic"].any() and eng["rate"].notna().all()
    # rolling has no meaning for years: ignored, not applied
    rolled = ex.trend([explore.SeriesKey("England", "ENG", "Total")], rolling=True, kind="year")
    pd.testing.assert_frame_equal(rolled, eng)
    gap = ex.gap("England", "ENG", kind="year")
    assert list(gap["period"]) == ex.domain("year") and gap["gap"].notna().all()
    assert not gap["synthetic"].any()
    rows = ex.series_rows([explore.SeriesKey("ICB", "QHM", "BME")], kind="year")
    assert (rows["period_type"] == "year").all() and not rows["synthetic"].any()


def test_default_period_type_is_the_one_whose_latest_period_is_published(frame):
    """Bundled store: the latest quarter is synthetic, the latest year real, so years. A
    store whose latest quarter is real opens on quarters; a sample-only store on quarters."""
    assert explore.Explorer(frame).default_period_type == "year"
    latest = explore.Explorer(frame).latest
    real_latest = frame.assign(synthetic=frame["synthetic"] & (frame["period"] != latest))
    assert explore.Explorer(real_latest).default_period_type == "quarter"
    sample = frame[frame["period_type"] == "quarter"].reset_index(drop=True)
    assert explore.Explorer(sample).default_period_type == "quarter"
    years = frame[frame["period_type"] == "year"].reset_index(drop=True)
    assert explore.Explorer(years).period_types == ["year"]
    assert explore.Explorer(years).default_period_type == "year"


def test_synthetic_flag_follows_each_row(frame):
    """One quarter made real: that point is published, the others synthetic, and every
    rolling window holding a synthetic quarter is synthetic; the tables say the same."""
    ex0 = explore.Explorer(frame)
    real_q = ex0.quarters[-5]
    mixed = explore.Explorer(frame.assign(
        synthetic=frame["synthetic"] & (frame["period"] != real_q)))
    key = [explore.SeriesKey("England", "ENG", "Total")]
    t = mixed.trend(key).dropna(subset=["rate"]).set_index("period")
    assert not t.loc[real_q, "synthetic"] and t["synthetic"].drop(real_q).all()
    table = explore.trend_table(mixed.trend(key)).to_pandas().set_index("Period")
    assert table.loc[real_q, "Data"] == "published"
    assert (table.drop(real_q).query("not Note.str.startswith('not published')")["Data"]
            == "synthetic sample").all()
    rolled = mixed.trend(key, rolling=True).dropna(subset=["rate"])
    assert rolled["synthetic"].all()  # each window also holds synthetic quarters
    assert mixed.synthetic_periods("quarter")[1] == [real_q]
    groups = mixed.groups("England", "ENG", real_q)
    assert not groups["synthetic"].any()
    assert set(explore.groups_table(groups).column("Data").to_pylist()) == {"published"}


def test_each_classification_in_its_own_block_with_not_stated_last(ex):
    """Real 2024/25 rows: the BAME/White British split and the broad ethnic groups are two
    classifications of the same people, and "Not stated/Not known/Invalid" is in both. Each
    row says which classification it is from; each classification is one block (the whole
    population, then BAME, White British, then the broad groups in the order every page
    offers them), its Not stated last; detailed groups follow their broad group."""
    for level, code in (("England", "ENG"), ("ICB", "QWO"), ("Region", "Y56")):
        for detailed in (False, True):
            g = ex.groups(level, code, "2024/25", detailed=detailed)
            pairs = g[["classification", "group_label"]]
            assert not pairs.duplicated().any(), (code, detailed)
            broad = g[g["classification"] != "Detailed ethnic groups"]
            assert broad["group_label"].tolist() == [
                "Whole population", "Black, Asian and minority ethnic (BAME)",
                "White British", "Not stated/Not known/Invalid", "Asian or Asian British",
                "Black or Black British", "Mixed", "Other Ethnic Groups", "White",
                "Not stated/Not known/Invalid"], (code, detailed)
            assert broad["classification"].tolist() == (
                ["Whole population"] + ["BAME and White British"] * 3
                + ["Broad ethnic groups"] * 6)
            # Each detailed group right after its broad group (or another of its detailed).
            heads = g["group_label"].str.split(": ").str[0].tolist()
            for i, row in enumerate(g.itertuples()):
                if row.classification == "Detailed ethnic groups":
                    assert heads[i - 1] == row.group_parent, (code, row.group_label)
            assert detailed == (g["classification"] == "Detailed ethnic groups").any()


def test_a_carriage_return_cannot_start_a_formula_row():
    """Found by hypothesis: with ``\\n`` line ends a lone ``\\r`` went out unquoted, and a CSV
    reader started a new row at it, whose first cell was the formula."""
    df = pd.DataFrame({"name": ["\r=cmd|' /C calc'!A0", "x\r@SUM(1)"], "count": [1, 2]})
    rows = list(csv.reader(io.StringIO(export.to_csv(df), newline="")))
    assert [r[0] for r in rows] == ["name", "'\r=cmd|' /C calc'!A0", "x\r@SUM(1)"]


def test_groups_table_and_text_name_each_rows_classification(ex):
    """The table's first column and the text alternative say which classification each row
    is from, as the chart's headings do: the two "Not stated" rows are told apart."""
    g = ex.groups("England", "ENG", "2024/25", detailed=True)
    table = tables.groups_table(g).to_pandas()
    assert list(table.columns[:3]) == ["Classification", "Group", tables.WHY]
    assert table.groupby("Classification", sort=False).size().to_dict() == {
        "Whole population": 1, "BAME and White British": 3, "Broad ethnic groups": 6,
        "Detailed ethnic groups": len(g) - 10}
    text = descriptions.describe_groups(g, "England", "2024/25")
    assert text.startswith("Rates by ethnic group in England, 2024/25. Whole population: 50.5%. "
                           "BAME and White British: Black, Asian and minority ethnic (BAME) "
                           "47.7%; White British 51.8%; Not stated/Not known/Invalid 46.3%. "
                           "Broad ethnic groups and their detailed groups: Asian or Asian "
                           "British 45.1%; Asian or Asian British: ")
    assert text.endswith("Not stated/Not known/Invalid 46.3%.")
    assert descriptions.describe_groups(g.iloc[0:0], "England", "2024/25").endswith("no data.")


def test_a_trend_tables_series_is_named_by_what_tells_it_apart(ex):
    """The trend table's "Series" names each line by what differs between them, so it is
    short enough to leave the rate on a phone's screen."""
    one_area = ex.trend(SOME_SERIES[:2])  # England: whole population and BAME
    assert set(explore.trend_table(one_area).column("Series").to_pylist()) == {
        "Whole population", "BAME"}
    keys = [explore.SeriesKey("England", "ENG", "Total"), explore.SeriesKey("ICB", "QHM", "Total")]
    one_group = explore.trend_table(ex.trend(keys)).column("Series").to_pylist()
    assert set(one_group) == {"England", names_module.short_name(
        ex.trend(keys[1:])["area_name"].iloc[0])}
    # Both vary: the first line's area (the page's own) by its population alone.
    mixed = ex.trend([SOME_SERIES[4], SOME_SERIES[5], SOME_SERIES[1]])  # QHM whole, BAME; ENG BAME
    assert list(dict.fromkeys(explore.trend_table(mixed).column("Series").to_pylist())) == [
        "Whole population", "BAME", "England, BAME"]
