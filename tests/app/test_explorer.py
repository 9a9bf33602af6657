"""AppTest: every page and every sidebar control of the explorer."""

from __future__ import annotations

import pytest

from core import explore
from core.store import Store
from tests.app.conftest import all_text, app, chart_specs, share_link

PAGES = ["pages/trends.py", "pages/compare.py", "pages/inequalities.py", "pages/about.py",
         "pages/upload.py"]


def trend_data(at):
    spec, frames = chart_specs(at)[0]
    main = max(frames.values(), key=lambda f: 0 if f is None else len(f))
    return spec, main


def series(at) -> list[str]:
    _, data = trend_data(at)
    return list(dict.fromkeys(data.sort_values("series_order")["series"]))


@pytest.fixture
def at():
    """The quarterly view (the bundled store's quarters are the synthetic sample)."""
    a = app({"period": "quarter"})
    a.run()
    assert not a.exception
    return a


@pytest.fixture
def landing():
    """The app as a visitor first sees it: no query string."""
    a = app()
    a.run()
    assert not a.exception
    return a


def notices(at) -> str:
    return "\n".join(w.value for w in at.warning)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_synthetic_notice(at, page):
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    assert at.title, page
    assert "Synthetic sample data" in notices(at), page


def test_default_view_is_the_published_financial_year(landing):
    """With the bundled store the latest quarter is synthetic and the latest year published,
    so the first screen is England's real 2024/25 figure, with no synthetic notice."""
    at = landing
    assert at.sidebar.radio(key="w_period").value == "year"
    assert at.query_params["period"] == "year"
    assert at.metric[0].label == "Recovery rate, 2024/25" and at.metric[0].value == "50.5%"
    assert at.metric[1].label == "A year earlier (2023/24)"
    assert "synthetic" not in notices(at).lower()
    spec, data = trend_data(at)
    assert not data["synthetic"].any() and list(data["period"])[-1] == "2024/25"
    assert " Q" not in "".join(data["period"])
    subtitle = " ".join(spec["title"]["subtitle"])
    assert "SYNTHETIC" not in subtitle and "Open Government Licence v3.0" in subtitle
    assert set(at.dataframe[0].value["Data"]) == {"published"}
    assert at.sidebar.get("toggle") and all(t.key != "w_rolling" for t in at.sidebar.toggle)
    for page in PAGES[1:3]:
        at.switch_page(page).run()
        assert not at.exception and "synthetic" not in notices(at).lower(), page
        assert all(not f["synthetic"].any() for _, fs in chart_specs(at)
                   for f in fs.values() if f is not None and "synthetic" in f)


def test_switching_to_quarterly_shows_the_notice(landing):
    at = landing
    at.sidebar.radio(key="w_period").set_value("quarter").run()
    assert not at.exception
    assert at.query_params["period"] == "quarter"
    assert "Synthetic sample data" in notices(at)
    assert " Q" in at.metric[0].label
    spec, data = trend_data(at)
    assert data.dropna(subset=["rate"])["synthetic"].all()
    assert "SYNTHETIC" in " ".join(spec["title"]["subtitle"])
    assert set(at.dataframe[0].value["Data"]) <= {"synthetic sample", ""}
    at.sidebar.toggle(key="w_rolling").set_value(True).run()
    assert at.query_params["roll"] == "1"
    at.sidebar.radio(key="w_period").set_value("year").run()  # rolling is quarterly only
    assert "roll" not in at.query_params and "four quarters" not in at.metric[0].label


@pytest.mark.parametrize("value", ["month", "<b>year</b>", "YEAR", ""])
def test_unknown_period_in_url_ignored(value):
    at = app({"period": value})
    at.run()
    assert not at.exception
    assert at.sidebar.radio(key="w_period").value == "year"
    # Said once to have been left out (quoted only where it could name a period); shown
    # nowhere else.
    said = " ".join(w.value for w in at.warning).replace("\\", "")
    assert value == "" or "left out: period" in said, said
    text = all_text(at)
    for w in at.warning:
        text = text.replace(str(w.value), "")
    assert value == "" or value not in text


def test_real_quarter_loaded_over_the_sample_shows_as_published(tmp_path):
    """A real quarter (the published layout, read by the same ``ingest``) merged into a copy
    of the bundled store, as *Use for this session* does: that quarter is published on the
    chart, in the table and in the notice; the other quarters stay synthetic."""
    import shutil

    from core.store import ingest
    from tests.conftest import quarterly_csv, small_quarter
    from ui import data as ui_data

    store_path = tmp_path / "recovery.parquet"
    shutil.copy(Store().path, store_path)
    csv = tmp_path / "nhstalkingtherapies_quarterly_q3_25_26_ICB_subICB.csv"
    csv.write_bytes(quarterly_csv(small_quarter()))
    ingest([csv], Store(store_path))
    at = app({"period": "quarter"})
    at.session_state[ui_data.UPLOAD_KEY] = str(store_path)
    at.run()
    assert not at.exception
    text = notices(at)
    assert "Synthetic sample data in part" in text and "2025/26 Q3" in text
    assert any("does not survive" in i.value or "gone when the page is reloaded" in i.value
               for i in at.info)
    assert any("Merged data (Parquet)" in i.value for i in at.info)
    _, data = trend_data(at)
    flag = data.dropna(subset=["rate"]).set_index("period")["synthetic"]
    assert not flag["2025/26 Q3"] and flag.drop("2025/26 Q3").all()
    table = at.dataframe[0].value.set_index("Period")
    assert table.loc["2025/26 Q3", "Data"] == "published"
    assert table.loc["2025/26 Q3", "Recovered"] == 81000
    assert (table.drop("2025/26 Q3").query("not Note.str.startswith('not published')")["Data"]
            == "synthetic sample").all()


def test_the_two_classifications_are_separate_blocks_with_real_rows(landing):
    """Real 2024/25 rows: BME Group and Ethnic Group each have a "Not stated/Not known/
    Invalid" row. The chart draws each classification under its own heading, Not stated last
    in each, and the table says which classification every row is from."""
    at = landing
    at.switch_page("pages/inequalities.py").run()
    assert not at.exception
    table = at.dataframe[1].value
    assert at.selectbox(key="w_at").value == "2024/25"
    assert list(table.columns[:2]) == ["Classification", "Group"]
    assert not table[["Classification", "Group"]].duplicated().any()
    not_stated = table[table["Group"].str.startswith("Not stated")]
    assert list(not_stated["Classification"]) == ["BAME and White British",
                                                  "Broad ethnic groups"]
    for block in ("BAME and White British", "Broad ethnic groups"):
        assert table[table["Classification"] == block]["Group"].iloc[-1].startswith(
            "Not stated")
    _, frames = chart_specs(at)[1]
    drawn, headings = frames["groups"], frames["headings"]
    assert drawn["row"].is_unique and drawn["group_label"].str.startswith("Not stated").sum() == 2
    assert list(headings["text"]) == ["BAME and White British", "Broad ethnic groups"]
    # Each heading comes just before its block's first row.
    order = drawn.set_index("group_label")["order"]
    assert headings["order"].tolist() == [order["Black, Asian and minority ethnic (BAME)"] - 1,
                                          order["Asian or Asian British"] - 1]


def test_icb_picker_holds_the_42_icbs_with_regions(landing):
    at = landing
    at.sidebar.radio(key="w_view").set_value("ICB").run()
    options = at.sidebar.selectbox(key="w_icb").options
    assert len(options) == 42
    regions = ("East of England", "London", "Midlands", "North East and Yorkshire",
               "North West", "South East", "South West")
    # Each label carries its region and code, so typing a code finds the ICB.
    assert all(any(f"({r}) · " in o for r in regions) for o in options)
    codes = [o.rsplit(" · ", 1)[-1] for o in options]
    assert len(set(codes)) == 42 and all(c.isalnum() and c.isupper() for c in codes)
    assert "QF7" in codes
    at.switch_page("pages/compare.py").run()
    assert len(at.dataframe[0].value) == 42


def test_default_view_is_england_whole_population(at):
    assert at.sidebar.radio(key="w_view").value == "National"
    assert series(at) == ["England, Whole population"]
    assert at.metric[0].label.startswith("Recovery rate, ")
    assert at.query_params["view"] == "National" and at.query_params["pop"] == "Total"


def test_no_line_bridges_the_unpublished_quarter_and_target_line_in_spec(at):
    """The chart the page sends: 2020/21 Q2 (absent from the store) is on the axis with no
    rate, and the line layer's own path field puts the quarters either side on different
    paths, so no line is drawn across the gap."""
    spec, data = trend_data(at)
    stored = set(Store().load()["period"])
    assert "2020/21 Q2" not in stored
    gap = data[data["period"] == "2020/21 Q2"]
    assert len(gap) == 1 and gap["rate"].isna().all()
    assert (gap["note"] == "not published").all()
    line = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "line")
    assert line["mark"]["invalid"].startswith("break-paths")
    path = line["encoding"]["detail"]["field"]
    by_period = data.set_index("period")
    before, after = by_period.loc["2020/21 Q1"], by_period.loc["2020/21 Q3"]
    assert before["rate"] > 0 and after["rate"] > 0
    assert before[path] != after[path]
    # every path runs over consecutive quarters of the axis, each with a rate
    axis = line["encoding"]["x"].get("scale", {}).get("domain", list(data["period"]))
    axis = axis.get("unionWith", axis) if isinstance(axis, dict) else axis
    assert "2020/21 Q2" in axis
    position = {p: i for i, p in enumerate(axis)}
    for _, points in data.dropna(subset=["rate"]).groupby(path):
        steps = sorted(position[p] for p in points["period"])
        assert steps == list(range(steps[0], steps[0] + len(steps)))
    texts = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    _, frames = chart_specs(at)[0]
    labels = {t for f in frames.values() if f is not None and "text" in f for t in f["text"]}
    assert "50%\ntarget" in labels
    assert any("2020/21 Q2: not published" in t for t in labels)
    assert texts


def test_population_and_measure(at):
    at.sidebar.selectbox(key="w_population").set_value("BME").run()
    assert series(at) == ["England, Black, Asian and minority ethnic (BAME)"]
    assert any("except White British" in c.value for c in at.sidebar.caption)
    at.sidebar.radio(key="w_measure").set_value("reliable_recovery").run()
    assert not at.exception
    assert at.title[0].value == "Reliable recovery rate over time"
    _, frames = chart_specs(at)[0]
    labels = {t for f in frames.values() if f is not None and "text" in f for t in f["text"]}
    assert not any("target" in t for t in labels)
    assert at.query_params["measure"] == "reliable_recovery"


def test_confidence_band_toggle(at):
    spec, _ = trend_data(at)
    assert any(layer["mark"]["type"] == "area" for layer in spec["layer"])
    at.sidebar.toggle(key="w_show_ci").set_value(False).run()
    spec, _ = trend_data(at)
    assert not any(layer["mark"]["type"] == "area" for layer in spec["layer"])
    assert at.query_params["ci"] == "0"


def test_national_comparisons_up_to_and_beyond_limit(at):
    ms = at.sidebar.multiselect(key="w_compare")
    five = ["ENG~BME", "ENG~White British", "Y56~Total", "QHM~BME", "QWO~Total"]
    ms.set_value(five).run()
    assert not at.exception
    assert len(series(at)) == 6
    assert any("That is the most: 5" in i.value for i in at.sidebar.info)
    at.sidebar.multiselect(key="w_compare").set_value(five + ["QF7~Total"]).run()
    assert not at.exception
    assert len(series(at)) == 6  # the sixth is refused
    assert at.sidebar.multiselect(key="w_compare").value == five


def test_icb_view_with_two_areas_each_total_and_bme(at):
    at.sidebar.radio(key="w_view").set_value("ICB").run()
    at.sidebar.selectbox(key="w_icb").set_value("QWO").run()
    at.sidebar.multiselect(key="w_areas").set_value(["QF7", "QOQ"]).run()
    assert not at.exception
    names = series(at)
    assert names[0] == "NHS West Yorkshire ICB, Whole population"
    assert names[1] == "NHS West Yorkshire ICB, Black, Asian and minority ethnic (BAME)"
    assert sum("South Yorkshire" in n for n in names) == 2
    assert sum("Humber" in n for n in names) == 2
    assert names[-1] == "England, Whole population"
    assert any("That is the most: 2" in i.value for i in at.sidebar.info)
    at.sidebar.multiselect(key="w_areas").set_value(["QF7", "QOQ", "QHM"]).run()
    assert not at.exception
    assert at.sidebar.multiselect(key="w_areas").value == ["QF7", "QOQ"]
    at.sidebar.toggle(key="w_show_england").set_value(False).run()
    assert "England, Whole population" not in series(at)
    assert at.query_params["areas"] == "QF7,QOQ" and at.query_params["icb"] == "QWO"


def test_icb_label_shows_region(at):
    at.sidebar.radio(key="w_view").set_value("ICB").run()
    sb = at.sidebar.selectbox(key="w_icb")
    assert any("(North East and Yorkshire)" in o for o in sb.options)


def test_state_survives_rerun_and_page_switch(at):
    at.sidebar.radio(key="w_view").set_value("ICB").run()
    at.sidebar.selectbox(key="w_icb").set_value("QF7").run()
    at.sidebar.selectbox(key="w_population").set_value("White British").run()
    at.run()
    at.switch_page("pages/about.py").run()  # no controls there, but the state is kept
    assert not at.sidebar.selectbox
    at.switch_page("pages/compare.py").run()
    assert at.sidebar.selectbox(key="w_icb").value == "QF7"
    assert at.sidebar.selectbox(key="w_population").value == "White British"
    at.switch_page("pages/trends.py").run()
    assert at.sidebar.radio(key="w_view").value == "ICB"
    assert series(at)[0] == "NHS South Yorkshire ICB, Whole population"
    # back to National and the ICB is still remembered for the next visit
    at.sidebar.radio(key="w_view").set_value("National").run()
    at.sidebar.radio(key="w_view").set_value("ICB").run()
    assert at.sidebar.selectbox(key="w_icb").value == "QF7"


def test_url_round_trip():
    at = app({"view": "ICB", "icb": "QOQ", "pop": "BME", "measure": "reliable_recovery",
              "areas": "QF7,Y56", "ci": "0", "eng": "0"})
    at.run()
    assert not at.exception
    assert at.sidebar.radio(key="w_view").value == "ICB"
    assert at.sidebar.selectbox(key="w_icb").value == "QOQ"
    assert at.sidebar.selectbox(key="w_population").value == "BME"
    assert at.sidebar.radio(key="w_measure").value == "reliable_recovery"
    assert at.sidebar.multiselect(key="w_areas").value == ["QF7", "Y56"]
    assert at.sidebar.toggle(key="w_show_ci").value is False
    link = share_link(at)
    for part in ("view=ICB", "icb=QOQ", "pop=BME", "areas=QF7%2CY56", "ci=0"):
        assert part in link


def test_hostile_url_values_ignored_never_shown():
    evil = "<script>alert(1)</script>"
    at = app({"view": evil, "icb": evil, "pop": "=cmd|' /C calc'!A0", "measure": evil,
              "cmp": f"ENG~BME,{evil}~Total,QHM~{evil}," + ",".join(["ENG~White"] * 20),
              "areas": evil})
    at.run()
    assert not at.exception
    assert at.sidebar.radio(key="w_view").value == "National"
    assert at.sidebar.selectbox(key="w_population").value == "Total"
    assert at.sidebar.multiselect(key="w_compare").value == ["ENG~BME", "ENG~White"]
    text = all_text(at)
    assert "<script>" not in text and "calc" not in text
    assert "script" not in str(dict(at.query_params))
    # Said to have been left out, by name only.
    said = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "left out: view, icb, pop, measure, cmp, cmp" in said, said


def test_a_link_naming_an_unknown_icb_says_so_and_which_icb_is_shown():
    """icb=ZZZ opened Bedfordshire, Luton and Milton Keynes without a word, so a mistyped
    link showed one ICB's figures as another's (a helper's review). The page says what was
    left out and which ICB it shows, once: the next change clears it."""
    at = app({"period": "year", "view": "ICB", "icb": "ZZZ", "measure": "foo", "pop": "BAME"})
    at.run()
    said = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "left out: icb 'ZZZ', measure 'foo'." in said, said
    frame = Store().load()
    shown = frame["area_code"] == at.sidebar.selectbox(key="w_icb").value
    name = explore.pretty_name(frame.loc[shown, "area_name"].iloc[-1])
    assert f"It shows {name} in place of the ICB the link named." in said, said
    assert "pop" not in said  # BAME is a valid way to say it
    at.sidebar.radio(key="w_measure").set_value("reliable_recovery").run()
    assert not at.warning
    valid = app({"period": "year", "view": "ICB", "icb": "QHL", "utm_source": "news"})
    valid.run()
    assert not valid.warning


def test_compare_page_table_and_bands(at):
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    df = at.dataframe[0].value
    period = at.selectbox(key="w_at").value
    frame = Store().load()
    icbs = frame[(frame["level"] == "ICB") & (frame["period"] == period)
                 & (frame["group"] == "Total")]
    assert sorted(df["ICB"]) == sorted(explore.pretty_name(n) for n in icbs["area_name"])
    assert set(df["Compared with England"]) <= {
        "better (99.8%)", "better (95%)", "similar", "worse (95%)", "worse (99.8%)", "no data"}
    assert any("Description:" in c.value and "ICBs" in c.value for c in at.caption)
    periods_offered = at.selectbox(key="w_at").options
    at.selectbox(key="w_at").set_value(periods_offered[3]).run()
    assert not at.exception


def test_inequalities_page(at):
    at.switch_page("pages/inequalities.py").run()
    assert not at.exception
    assert any("percentage points" in c.value for c in at.caption)
    assert len(chart_specs(at)) == 2


def test_about_page_explains(at):
    at.switch_page("pages/about.py").run()
    text = "\n".join(m.value for m in at.markdown)
    for phrase in ("caseness", "50%", "stepped care", "2020/21 Q2", "rounds every count",
                   "except White British", "Reliable recovery", "Wilson"):
        assert phrase.lower() in text.lower(), phrase
    log = at.dataframe[0].value
    # The bundled store: the synthetic quarterly sample, then the real annual figures.
    assert set(log["Data"]) == {"synthetic sample", "published"}
    assert list(log.columns[:2]) == ["Loaded (UTC)", "Data"]  # seen without scrolling
    from scripts.build_real import CREDIT

    real = log[log["Data"] == "published"]
    assert (real["Credit"] == CREDIT).all() and all("psych-ther-ann" in f for f in real["Files"])
    sample = log[log["Data"] == "synthetic sample"]
    assert (sample["Credit"] == "").all()
    # Its files are named as NHS England names its own: said to be synthetic where they are.
    assert sample["Files"].str.startswith("synthetic, in the published layout: ").all()
    assert any("2017/18 to 2024/25 are published" in s.value and CREDIT in s.value
               for s in at.success)
    # each period: its file, load time and a link to NHS England's publication page
    periods = at.dataframe[1].value
    year = periods[periods["Period"] == "2024/25"].iloc[0]
    assert year["Files"] == "psych-ther-ann-2024-25.csv" and year["Loaded (UTC)"][:4] == "2026"
    assert year["Publication"].startswith("https://digital.nhs.uk/")
    assert "digital.nhs.uk" in text  # the publication pages, as links
    labels = [b.label for b in at.get("download_button")]
    assert "All financial years (CSV)" in labels and "All quarters (CSV)" in labels
    assert any(label.startswith("Whole store (Parquet") for label in labels)


def test_every_chart_has_table_description_and_downloads(at):
    for page in PAGES[:3]:
        at.switch_page(page).run()
        n_charts = len(chart_specs(at))
        assert n_charts >= 1
        assert len(at.dataframe) >= n_charts
        labels = [b.label for b in at.get("download_button")]
        assert labels.count("Download data (CSV)") >= n_charts
        assert labels.count("Chart as PNG") >= n_charts and labels.count("Chart as SVG") >= n_charts
        assert sum(c.value.startswith("Description:") for c in at.caption) >= n_charts
        for el in at.get("vega_lite_chart"):
            assert el.proto.alt  # text alternative on the chart itself


def test_rolling_four_quarters(at):
    from core.store import Store

    at.sidebar.toggle(key="w_rolling").set_value(True).run()
    assert not at.exception
    assert at.query_params["roll"] == "1"
    assert "four quarters" in at.metric[0].label
    spec, data = trend_data(at)
    assert spec["title"]["text"].endswith("rolling four quarters")
    rate = data.set_index("period")["rate"]
    # no complete four quarters: the first three, and every window holding 2020/21 Q2
    for p in ("2018/19 Q1", "2018/19 Q2", "2018/19 Q3", "2020/21 Q2", "2020/21 Q3",
              "2020/21 Q4", "2021/22 Q1"):
        assert rate.isna()[p], p
    frame = Store().load()
    eng = frame[(frame["level"] == "England") & (frame["group"] == "Total")
                & (frame["period_type"] == "quarter")].set_index("period")
    window = eng.loc[["2018/19 Q1", "2018/19 Q2", "2018/19 Q3", "2018/19 Q4"]]
    expected = 100 * window["recovered"].sum() / (
        window["finished"].sum() - window["not_at_caseness"].sum())
    assert rate["2018/19 Q4"] == pytest.approx(expected)
    assert rate.notna()["2021/22 Q2"]
    table = at.dataframe[0].value.set_index("Period")
    assert table.loc["2018/19 Q1", "Why a figure is blank"] == "no complete four quarters"
    assert table.loc["2020/21 Q2", "Why a figure is blank"] == "not published"
    assert table.loc["2018/19 Q1", "Note"].startswith("no complete four quarters: ")
    assert table.loc["2020/21 Q2", "Note"].startswith("not published: NHS England never")


def test_detailed_ethnic_groups(at):
    at.switch_page("pages/inequalities.py").run()
    broad = len(at.dataframe[1].value)
    at.toggle(key="w_detailed").set_value(True).run()
    assert not at.exception
    table = at.dataframe[1].value
    assert len(table) > broad
    assert "Asian or Asian British: Indian" in set(table["Group"])
    assert "Fewer than 30 people" in table.columns
    groups = list(table["Group"])
    assert groups.index("Asian or Asian British") < groups.index("Asian or Asian British: Indian")
    indian = table.set_index("Group").loc["Asian or Asian British: Indian"]
    assert indian["Classification"] == "Detailed ethnic groups"
    _, frames = chart_specs(at)[1]
    assert list(frames["headings"]["text"]) == [
        "BAME and White British", "Broad ethnic groups and\ntheir detailed groups"]


def test_headline_describes_the_chosen_population_on_the_icb_view(at):
    """On the ICB view the lines start with the whole population; the headline figures must
    still be the chosen population's, as the heading above them says."""
    at.sidebar.radio(key="w_view").set_value("ICB").run()
    at.sidebar.selectbox(key="w_icb").set_value("QWO").run()
    at.sidebar.selectbox(key="w_population").set_value("BME").run()
    assert not at.exception
    (spec, frames), = chart_specs(at)[:1]
    data = next(f for f in frames.values() if f is not None and "series" in f)
    bame = data[data["series"] == "NHS West Yorkshire ICB, Black, Asian and minority ethnic (BAME)"]
    latest = bame.dropna(subset=["rate"]).iloc[-1]
    assert at.metric[0].value == f"{latest['rate']:.1f}%"
    total = data[data["series"] == "NHS West Yorkshire ICB, Whole population"]
    assert total.dropna(subset=["rate"]).iloc[-1]["rate"] != latest["rate"]


def test_default_icb_is_the_same_however_the_page_was_opened():
    """Opening a link to the ICB view without an ICB, and switching to the ICB view after
    opening the national view, show the same ICB: the first the picker offers."""
    linked = app({"view": "ICB"})
    linked.run()
    plain = app()
    plain.run()
    plain.sidebar.radio(key="w_view").set_value("ICB").run()
    assert not linked.exception and not plain.exception
    first_offered = explore.Explorer(Store().load()).icbs[0]
    assert linked.sidebar.selectbox(key="w_icb").value == first_offered
    assert plain.sidebar.selectbox(key="w_icb").value == first_offered
    assert series(linked)[0] == series(plain)[0]


def test_gitignore_ignores_no_committed_file():
    """The bundled store and reference table are committed: an ignore rule for them would
    leave an updated store out of the next commit without a word."""
    import shutil
    import subprocess

    from tests.conftest import ROOT

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "ls-files", "--cached", "--ignored", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert ignored == []
    for path in ("data/recovery.parquet", "data/reference/icb_regions.csv"):
        assert (ROOT / path).exists()
        check = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT)
        assert check.returncode == 1, f"{path} is ignored"
    assert subprocess.run(["git", "check-ignore", "--no-index", "-q", "data/x.prev.parquet"],
                          cwd=ROOT).returncode == 0  # the store's previous version stays out


def test_charts_reach_streamlit_as_arrow_tables(monkeypatch):
    """Every dataset of a chart, the constant ones (target line) included, is handed to
    st.vega_lite_chart as a pa.Table (a documented input), never as pre-serialised bytes; and
    the kept spec, shared by every session, is left as it was."""
    import pyarrow as pa

    from core import charts
    from ui import render

    ex = explore.Explorer(Store().load())
    spec = charts.trend_spec(ex.trend([explore.SeriesKey("England", "ENG", "Total")]),
                             domain=ex.quarters, frames=True)
    before = dict(spec["datasets"])
    seen = []
    monkeypatch.setattr(render.st, "vega_lite_chart", lambda s, **kw: seen.append(s))
    render.chart(spec, alt="a chart", key="k")
    (shown,) = seen
    assert set(shown["datasets"]) == set(before)
    assert all(isinstance(v, pa.Table) for v in shown["datasets"].values())
    assert shown["datasets"] is not spec["datasets"] and spec["datasets"] == before
    for name, values in before.items():  # the same rows, whatever form the builder gave
        rows = values.to_pylist() if isinstance(values, pa.Table) else values
        assert shown["datasets"][name].to_pylist() == rows


def _draw_twice(spec: dict) -> None:
    from ui import render

    render.chart(spec, alt="a chart", key="one")
    render.chart(spec, alt="a chart", key="two")


def test_drawing_a_view_leaves_the_shared_layout_as_built():
    """Views of one set of options share the layout's nested parts (``charts._layout``: no
    copy per view); Streamlit copies a spec's top level and changes only that, so drawing a
    view leaves the next view of the same options as it was built."""
    import copy

    from streamlit.testing.v1 import AppTest

    from core import charts

    ex = explore.Explorer(Store().load())
    data = ex.trend([explore.SeriesKey("England", "ENG", "Total")])
    first = charts.trend_spec(data, domain=ex.quarters, frames=True)
    layout = copy.deepcopy({k: v for k, v in first.items() if k != "datasets"})
    at = AppTest.from_function(_draw_twice, args=(first,), default_timeout=60)
    at.run()
    assert not at.exception and len(at.get("vega_lite_chart")) == 2
    second = charts.trend_spec(data, domain=ex.quarters, frames=True)
    assert second["layer"] is first["layer"]  # shared, not copied
    assert {k: v for k, v in second.items() if k != "datasets"} == layout


def test_default_follows_the_store_until_the_visitor_chooses(tmp_path):
    """A session whose store gets a published latest quarter (an upload used for this session)
    opens quarterly, where that quarter is; a period type picked in the sidebar stays."""
    import shutil

    from core.store import ingest
    from tests.conftest import quarterly_csv, small_quarter
    from ui import data as ui_data

    store_path = tmp_path / "recovery.parquet"
    shutil.copy(Store().path, store_path)
    csv = tmp_path / "nhstalkingtherapies_quarterly_q1_26_27_ICB_subICB.csv"
    csv.write_bytes(quarterly_csv(small_quarter("2026-04-01", "2026-06-30")))
    ingest([csv], Store(store_path))
    at = app()
    at.run()
    assert at.sidebar.radio(key="w_period").value == "year"
    at.session_state[ui_data.UPLOAD_KEY] = str(store_path)
    at.run()
    assert not at.exception
    assert at.sidebar.radio(key="w_period").value == "quarter"
    assert at.metric[0].label == "Recovery rate, 2026/27 Q1" and at.metric[0].value == "50.3%"  # 81,000 of 161,000
    at.sidebar.radio(key="w_period").set_value("year").run()
    del at.session_state[ui_data.UPLOAD_KEY]
    at.run()
    at.session_state[ui_data.UPLOAD_KEY] = str(store_path)
    at.run()
    assert at.sidebar.radio(key="w_period").value == "year"  # chosen: it stays


def test_links_reopen_page_controls_and_back_restores_the_previous_view():
    """A link made on a non-default period with detailed groups reopens that view; a URL the
    session did not write (the browser's Back) brings the earlier view back instead of being
    overwritten by the current one."""
    at = app({"period": "year", "at": "2021/22", "det": "1"})
    at.switch_page("pages/inequalities.py").run()
    assert at.selectbox(key="w_at").value == "2021/22"
    assert at.toggle(key="w_detailed").value is True
    first = dict(at.query_params)
    assert first["at"] == "2021/22" and first["det"] == "1"
    at.selectbox(key="w_at").set_value("2023/24").run()
    at.toggle(key="w_detailed").set_value(False).run()
    assert at.query_params["at"] == "2023/24" and "det" not in at.query_params
    # Back twice: the browser hands the first URL back.
    at.query_params.clear()
    at.query_params.update(first)
    at.run()
    assert at.selectbox(key="w_at").value == "2021/22"
    assert at.toggle(key="w_detailed").value is True
    assert dict(at.query_params) == first


def test_sidebar_shows_only_the_controls_that_change_the_page():
    at = app({"period": "year"})
    at.run()
    trend_labels = {w.label for w in at.sidebar.radio} | {w.label for w in at.sidebar.toggle}
    assert {"View", "Period", "Show 95% confidence band"} <= trend_labels
    at.switch_page("pages/compare.py").run()
    labels = ({w.label for w in at.sidebar.radio} | {w.label for w in at.sidebar.toggle}
              | {w.label for w in at.sidebar.selectbox} | {w.label for w in at.sidebar.multiselect})
    assert "View" not in labels and "Show 95% confidence band" not in labels
    assert not any(label.startswith("Compare with") for label in labels)
    assert {"Period", "Population", "Highlighted ICB"} <= labels
    at.switch_page("pages/about.py").run()
    assert not at.sidebar.radio and not at.sidebar.selectbox and not at.sidebar.toggle


@pytest.mark.parametrize(("pop", "first"), [("BME", "Black, Asian and minority ethnic (BAME)"),
                                            ("Total", "Whole population")])
def test_trend_table_starts_with_the_chosen_population(pop, first):
    """On an ICB view the lines start with the whole population whatever is chosen; the table
    starts with the population the headline describes (with BAME chosen it began with 8
    whole-population years: a helper's browser review)."""
    at = app({"view": "ICB", "icb": "QHL", "pop": pop, "period": "year"})
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["Population"].iloc[0] == first
    assert set(table["Population"]) >= {"Whole population",
                                        "Black, Asian and minority ethnic (BAME)"}
    rows = list(zip(table["Area"], table["Population"], strict=True))
    chosen = ("NHS Birmingham and Solihull ICB", first)
    n = rows.count(chosen)
    assert n == table["Period"].nunique() and rows[:n] == [chosen] * n  # before any other
    # Which line each row is, by what tells it apart, beside the period and before the
    # rate (at 390 px rows of one year could not be told apart: review, 2026-11-28).
    assert list(table.columns[:3]) == ["Period", "Series", "Recovery rate (%)"]
    short = {"BME": "BAME", "Total": "Whole population"}[pop]
    assert set(table["Series"][:n]) == {short}
    assert f"England, {short}" in set(table["Series"])


def test_the_trend_of_an_area_whose_figure_jumped_says_so_above_the_chart():
    """Bath and North East Somerset, Swindon and Wiltshire's published 16.2% for 2021/22
    (``core.unusual``): the trends page warns before the chart, and its description says it."""
    at = app({"view": "ICB", "icb": "QOX", "period": "year"})
    at.run()
    assert not at.exception
    warned = [w.value.replace("\\", "") for w in at.warning if "Treat with care" in w.value]
    assert len(warned) == 1
    assert "Whole population, 2021/22, on 2020/21: 5,160 → 15,245" in warned[0]
    assert any("Treat with care" in c.value.replace("\\", "") for c in at.caption
               if c.value.startswith("Description"))
    at = app({"view": "ICB", "icb": "QHL", "period": "year"})
    at.run()
    assert not [w for w in at.warning if "Treat with care" in w.value]
