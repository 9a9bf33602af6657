"""Chart builders: valid Vega-Lite (rendering skips validation, so it is checked here), and
the accessibility rules: colour-blind palette, meaning never by colour alone, source line."""

from __future__ import annotations

import inspect
import json

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import charts, explore, model
from core.store import Store


@pytest.fixture(scope="module")
def frame():
    return Store().load()


@pytest.fixture(scope="module")
def domain(frame):
    return explore.quarter_domain(frame)


def layers(chart):
    return chart.to_dict()["layer"]  # to_dict() validates against the Vega-Lite schema


def test_trend_chart_valid_and_accessible(frame, domain):
    keys = [explore.SeriesKey("England", "ENG", "Total"), explore.SeriesKey("England", "ENG", "BME")]
    data = explore.trend(frame, keys, domain=domain)
    chart = charts.trend_chart(data, domain=domain, synthetic=True)
    spec = chart.to_dict()
    line = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "line")
    assert line["encoding"]["strokeDash"]["field"] == "group_label"  # not colour alone
    assert line["encoding"]["color"]["scale"]["range"] == charts.PALETTE[:2]
    point = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "point")
    assert point["encoding"]["shape"]["field"] == "group_label"
    assert charts.SYNTHETIC_SOURCE in spec["title"]["subtitle"]
    assert spec["layer"][1]["encoding"]["x"]["scale"]["domain"] == domain


def test_trend_chart_without_ci_and_for_reliable_recovery(frame, domain):
    keys = [explore.SeriesKey("ICB", "QHM", "Total")]
    data = explore.trend(frame, keys, "reliable_recovery", domain=domain)
    spec = charts.trend_chart(data, domain=domain, measure="reliable_recovery",
                              show_ci=False).to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert "area" not in marks
    texts = json.dumps(spec)
    assert "50% target" not in texts and charts.SOURCE in texts


def test_no_line_bridges_the_unpublished_quarter(frame, domain):
    data = explore.trend(frame, [explore.SeriesKey("England", "ENG", "Total")], domain=domain)
    spec = charts.trend_chart(data, domain=domain).to_dict()
    records = next(v for v in spec["datasets"].values() if len(v) == len(domain))
    df = pd.DataFrame(records)
    before = df.loc[df["period"] == "2020/21 Q1"].index[0]
    after = df.loc[df["period"] == "2020/21 Q3"].index[0]
    assert df.loc[df["period"] == "2020/21 Q2", "rate"].isna().all()
    # the line's detail field puts the two sides on different paths
    line = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "line")
    assert line["encoding"]["detail"]["field"] == "path"
    d = data.assign(segment=data["rate"].isna().cumsum())
    assert d.loc[before, "segment"] != d.loc[after, "segment"]


def test_compare_funnel_gap_groups_valid(frame, domain):
    period = domain[-1]
    table, england = explore.compare_areas(frame, period, "BME")
    dots = charts.compare_chart(table, england["rate"], title="t")
    spec = dots.to_dict()
    point = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "point")
    assert point["encoding"]["shape"]["field"] == "vs_england"  # bands by shape too
    limits = explore.funnel(table, england["rate"])
    charts.funnel_chart(table, limits, title="f").to_dict()
    gap = explore.group_gap(frame, "England", "ENG")
    charts.gap_chart(gap, domain=domain, title="g").to_dict()
    groups = explore.broad_groups(frame, "England", "ENG", period)
    charts.groups_chart(groups, title="b").to_dict()


@pytest.mark.parametrize("fmt,magic", [("png", b"\x89PNG"), ("svg", b"<svg")])
def test_export_images(frame, domain, fmt, magic):
    data = explore.trend(frame, [explore.SeriesKey("England", "ENG", "Total")], domain=domain)
    out = charts.to_image(charts.trend_chart(data, domain=domain, synthetic=True), fmt)
    assert out[:4] == magic
    if fmt == "svg":
        assert b"SYNTHETIC SAMPLE DATA" in out  # the source line travels with the image
    with pytest.raises(ValueError):
        charts.to_image(charts.trend_chart(data, domain=domain), "gif")


# --- The fast route (a cached layout filled with each view's values) gives Altair's spec ----

SERIES = [
    explore.SeriesKey(level, code, group)
    for level, code in (("England", "ENG"), ("ICB", "QHM"), ("ICB", "QWE"), ("ICB", "NOPE"))
    for group in ("Total", "BME", "White British", "Mixed", "White")
]
FAST = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(keys=st.lists(st.sampled_from(SERIES), min_size=1, max_size=6, unique=True),
       measure=st.sampled_from(list(model.MEASURES)), show_ci=st.booleans(),
       rolling=st.booleans(), synthetic=st.booleans(), highlight=st.booleans())
def test_fast_trend_spec_is_altairs(frame, domain, keys, measure, show_ci, rolling, synthetic,
                                    highlight):
    data = explore.trend(frame, keys, measure, domain=domain, rolling=rolling)
    opts = dict(domain=domain, measure=measure, show_ci=show_ci, synthetic=synthetic,
                rolling=rolling, highlight=domain[-2:] if highlight else None)
    assert charts.trend_spec(data, **opts) == charts.trend_chart(data, **opts).to_dict()


@FAST
@given(back=st.integers(0, 30), group=st.sampled_from(["Total", "BME", "Mixed", "White British"]),
       measure=st.sampled_from(list(model.MEASURES)), synthetic=st.booleans(),
       no_england=st.booleans())
def test_fast_compare_and_funnel_specs_are_altairs(frame, domain, back, group, measure,
                                                   synthetic, no_england):
    period = [q for q in domain if q not in {"2020/21 Q2"}][-1 - back]
    table, england = explore.compare_areas(frame, period, group, measure)
    rate = None if no_england or england is None else england["rate"]
    opts = dict(title=f"t {period}", synthetic=synthetic, measure=measure)
    assert (charts.compare_spec(table, rate, **opts)
            == charts.compare_chart(table, rate, **opts).to_dict())
    if rate is not None:
        limits = explore.funnel(table, rate)
        assert (charts.funnel_spec(table, limits, **opts)
                == charts.funnel_chart(table, limits, **opts).to_dict())


@FAST
@given(area=st.sampled_from([("England", "ENG"), ("ICB", "QHM"), ("ICB", "NOPE")]),
       back=st.integers(0, 30), measure=st.sampled_from(list(model.MEASURES)),
       detailed=st.booleans(), synthetic=st.booleans())
def test_fast_gap_and_groups_specs_are_altairs(frame, domain, area, back, measure, detailed,
                                               synthetic):
    gap = explore.group_gap(frame, *area, measure)
    opts = dict(title=f"g {area[1]}", synthetic=synthetic)
    if not gap.empty:
        assert (charts.gap_spec(gap, domain=domain, **opts)
                == charts.gap_chart(gap, domain=domain, **opts).to_dict())
    period = [q for q in domain if q != "2020/21 Q2"][-1 - back]
    groups = explore.broad_groups(frame, *area, period, measure, detailed)
    assert (charts.groups_spec(groups, measure=measure, **opts)
            == charts.groups_chart(groups, measure=measure, **opts).to_dict())


def test_fast_spec_keeps_frames_for_the_app(frame, domain):
    data = explore.trend(frame, SERIES[:2], domain=domain)
    spec = charts.trend_spec(data, domain=domain, frames=True)
    assert isinstance(spec["datasets"]["trend"], pa.Table)
    # the layout is built once per set of options, not once per view
    before = charts._skeleton.cache_info().hits
    charts.trend_spec(explore.trend(frame, SERIES[5:8], domain=domain), domain=domain)
    assert charts._skeleton.cache_info().hits == before + 1


def test_filled_specs_do_not_share_what_they_fill(frame, domain):
    """Specs share untouched parts of the cached layout; filling one must not alter another."""
    first_data = explore.trend(frame, SERIES[:2], domain=domain)
    first = charts.trend_spec(first_data, domain=domain)
    charts.trend_spec(explore.trend(frame, SERIES[10:14], domain=domain), domain=domain)
    assert first == charts.trend_chart(first_data, domain=domain).to_dict()


@pytest.mark.parametrize("build", ["trend", "compare", "funnel", "gap", "groups"])
def test_export_images_from_the_specs_the_app_keeps(frame, domain, build):
    """The app's download buttons render the spec it keeps, whose datasets are Arrow tables."""
    period = domain[-1]
    table, england = explore.compare_areas(frame, period, "BME")
    spec = {
        "trend": lambda: charts.trend_spec(explore.trend(frame, SERIES[:2], domain=domain),
                                           domain=domain, frames=True, synthetic=True),
        "compare": lambda: charts.compare_spec(table, england["rate"], title="t", frames=True),
        "funnel": lambda: charts.funnel_spec(table, explore.funnel(table, england["rate"]),
                                             title="t", frames=True),
        "gap": lambda: charts.gap_spec(explore.group_gap(frame, "England", "ENG"),
                                       domain=domain, title="g", frames=True),
        "groups": lambda: charts.groups_spec(explore.broad_groups(frame, "England", "ENG", period),
                                             title="b", frames=True),
    }[build]()
    assert any(isinstance(v, pa.Table) for v in spec["datasets"].values())
    assert charts.to_image(spec, "png")[:4] == b"\x89PNG"
    assert b"<svg" in charts.to_image(spec, "svg")[:200]


@pytest.mark.parametrize("name", ["trend", "compare", "funnel", "gap", "groups"])
def test_spec_builders_take_what_chart_builders_take(name):
    """Each chart has an Altair builder and a fast spec builder with the same options: a
    default changed in one and not the other would make the app draw what tests do not."""
    chart = inspect.signature(getattr(charts, f"{name}_chart")).parameters
    spec = dict(inspect.signature(getattr(charts, f"{name}_spec")).parameters)
    assert spec.pop("frames").default is False
    assert [(p.name, p.kind, p.default) for p in chart.values()] == \
        [(p.name, p.kind, p.default) for p in spec.values()]
