"""About the data: definitions, caveats, methods and where each quarter came from."""

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from core import model, periods, provenance, unusual
from ui import data, page, render

ctx = page.start("About the data", needs_quarters=False)
source, ex = ctx.source, ctx.explorer

st.header("What the recovery rate measures", anchor="recovery-rate")
st.markdown(
    """
NHS Talking Therapies for anxiety and depression (called IAPT until 2023) offers psychological
therapies for common mental health problems such as depression, generalised anxiety, panic,
social anxiety, OCD and PTSD. People can refer themselves or be referred by a GP.

At the start of treatment and at each session people complete short questionnaires: the PHQ-9
for depression, the GAD-7 for anxiety, or a questionnaire specific to their problem. A score
above the clinical threshold means the person is **at caseness**: their symptoms are severe
enough to count as a clinical case.

The **recovery rate** is the share of people who **finished a course of treatment** (at least
two treatment sessions, then discharged), and were at caseness when they started, who are **no
longer at caseness** at the end:

> recovery rate = moved to recovery ÷ (finished a course of treatment − not at caseness at the start)

People who were not at caseness at the start cannot "recover" in this sense, so they are left
out of the denominator. The government's target is that **at least 50%** of people recover.
"""
)

st.header("Reliable recovery", anchor="reliable-recovery")
st.markdown(
    """
**Reliable recovery** asks for more: the person moved to recovery *and* their scores improved by
more than the measurement error of the questionnaire (reliable improvement). It uses the same
denominator. NHS England has used reliable recovery as its headline outcome since 2024; the
recovery rate remains the long-running series with the 50% target. Choose either under
*Measure* in the sidebar. The 50% target line is drawn for the recovery rate only.
"""
)

st.page_link("pages/trends.py", label="See England's reliable recovery rate over time",
             icon=":material/show_chart:", query_params={"view": "National", "pop": "Total",
                                                         "measure": "reliable_recovery"})

st.header("Stepped care and choice", anchor="stepped-care")
st.markdown(
    """
NICE guidance for depression and anxiety recommends **stepped care**: starting with the least
intensive treatment that is likely to work (guided self-help, computerised CBT, group
programmes) and stepping up to high-intensity individual therapy (such as CBT, interpersonal
therapy, counselling for depression or EMDR) when needed or when the person's problems call for
it. NICE also recommends that people are offered a **choice** of treatment and are involved in
the decision. Recovery rates differ between services partly because the mix of problems,
severity and treatment steps differs: compare areas with that in mind.
"""
)

st.header("Population groups", anchor="groups")
st.markdown(
    f"""
- **Whole population**: everyone who finished a course of treatment.
- **Black, Asian and minority ethnic (BAME)**: {model.BAME_DEFINITION} NHS England's files call
  this group "BME". The UK government stopped using "BAME" in 2022 and recommends naming specific
  groups where possible; we keep the label our users know, always with what it contains, and
  offer the broad groups so a gap can be traced to the groups behind it.
- **White British**: people recorded as White British (NHS ethnic category A).
- **Broad ethnic groups**: Asian or Asian British; Black or Black British; Mixed; White (British,
  Irish, Gypsy or Irish Traveller, any other White background); Other Ethnic Groups (Chinese, any
  other ethnic group). People whose ethnicity was not stated or not known are in none of these.
- Rates for combined groups are always computed from summed counts, never by averaging rates.
"""
)

st.page_link("pages/inequalities.py", label="See the gap between BAME and White British",
             icon=":material/diversity_3:")

st.header("Gaps, rounding and suppression", anchor="caveats")
gap_notes = "\n".join(f"- **{p}**: {why}" for p, why in periods.UNPUBLISHED_QUARTERS.items())
st.markdown(
    f"""
{gap_notes} Charts show it as a gap, and no line is drawn across it.

- **Rounding**: below England level NHS England rounds every count to the nearest 5, and
  publishes counts under 5 as `*` (suppressed). England counts are exact.
- **What we show**: we recompute each rate from the published counts, so that groups and
  periods can be combined and confidence intervals calculated. For small areas or groups a rate
  from rounded counts can differ from NHS England's published percentage (computed before
  rounding) by about a point; both are in every table and download.
- **Suppressed counts** give *no rate* (never 0%), except a suppressed "not at caseness"
  (0 to 4) with the other counts present: the rate is then a range (see *Rounding ranges*
  below). A rate from fewer than 30 people is marked as unreliable.
- **Areas change**: ICBs replaced STPs and CCGs in July 2022, and on 1 April 2026 12 of the 42
  ICBs merged or split into 6. ICB views offer both geographies (*ICBs 2022–26*, 42, and *ICBs
  from April 2026*, 36, under *ICB boundaries* in the sidebar). An ICB's figure for a period
  before it existed is the sum of the CCGs (or STPs) that map wholly onto it; where a boundary
  cut through a CCG the point is marked *approximate* and says what moved; where no honest sum
  exists the period has no value and says why. STP and CCG rows are never shown as ICBs.
"""
)

st.header("Methods", anchor="methods")
st.markdown(
    """
We follow the methods of OHID's Fingertips tools and the `PHEindicatormethods` R package:

- **95% and 99.8% confidence intervals** by the Wilson score method. Intervals computed from
  counts rounded to 5 are approximate.
- **Compared with England**: an area is *similar* if England's rate lies inside the area's
  interval, otherwise *better* or *worse* (higher recovery is better); with both intervals this
  gives five bands. England's own interval is ignored.
- **Against the 50% target**: meets it if the lower 95% limit is at least 50%; below it if the
  upper limit is under 50%; otherwise not distinguishable.
- **Funnel plots**: control limits at 95% and 99.8% around England's rate, by denominator.
- **Gap between two groups** (BAME and White British): a 95% interval for the difference of two
  proportions by Newcombe's hybrid score method; the gap is significant if it excludes 0.
  Where a group's rate is known only as a range ("not at caseness" suppressed), the gap uses
  the range's midpoint and Newcombe's combination of the two groups' intervals, the range's
  covering both its ends, so the gap's interval covers the gap at either end of the range.
"""
)

st.markdown(
    """
**Comparing many areas, trends and changes** (the sources are named in `core/stats.py`,
`core/overdispersion.py` and `core/trend_tests.py`):

- **Wilson score intervals** (Wilson, 1927) for every rate, at 95% and 99.8%, as Fingertips.
- **Fingertips' two-level comparison**: an area is better or worse than England at 95% or at
  99.8% when England's rate lies outside the area's interval; otherwise similar.
- **Allowing for overdispersion** (Spiegelhalter, 2005, *Handling over-dispersion of
  performance indicators*): ICBs differ for reasons beyond chance (case mix, services,
  recording), so binomial limits flag half of them. We compute each area's z-score, pull the
  most extreme 10% at each end in (Winsorising), and take the dispersion ratio φ (1 means
  chance alone). When φ is clearly above 1 we estimate the real between-area variance τ² and
  widen the limits and bands by it. The Compare ICBs page says φ, uses the widened limits by
  default, keeps the unadjusted ones (and Fingertips' bands) one switch away, and shows both
  verdicts in its table. With 42 ICBs, about 2 would lie outside 95% limits by chance alone.
- **Recent trend**: the chi-squared test for trend in proportions (Armitage, Berry and
  Matthews) over the last five points, significant at 99.8%, as Fingertips' "recent trend":
  increasing, decreasing, no significant change, or could not be calculated (fewer than five
  consecutive points, or a gap among them). The verdict gives the first and last of the five
  rates, so a fall over five years beside a rise in the last one reads as what it is.
- **Is the gap widening?** Weighted least squares of the BAME − White British gap on time over
  the last five points, each point weighted by the inverse of the gap's variance (the two
  groups are independent), tested at 99.8%: widening, narrowing or no significant change.
- Both tests use the points the charts show: a rate known only as a range ("not at caseness"
  suppressed) is tested at the range's midpoint, with the denominator that midpoint has.
- **Change on a year ago**: Newcombe's hybrid score interval (Newcombe, 1998) for the
  difference between the two periods. The change is coloured only when the interval excludes
  0; otherwise it is grey and reads "no significant change". The difference shown is the
  difference of the two rounded figures shown.
- **Rounding ranges**: below England each count may be up to 2 from its published value
  (summed counts, such as rolling quarters, up to 2 per count summed). The range of the rate
  under rounding is in every table and tooltip; a rate whose range reaches more than 1 point
  away is flagged *approximate*. Where "not at caseness" is suppressed (0 to 4) the rate is a
  range with an interval covering both ends; where rounded counts give more recovered than
  could recover, the rate is *not reliable* and the counts are shown instead.
"""
)
st.markdown(
    "- **Unusual figures**: a published figure is flagged *unusual* (†) when, on the same "
    "period a year earlier, the number at caseness changed by more than a factor of "
    f"{unusual.SIZE_FACTOR:g} (up or down), or the rate moved by {unusual.RATE_POINTS:.0f} "
    f"points or more and beyond chance at 99.8%, with at least {unusual.MIN_PEOPLE} people "
    "at caseness; the synthetic sample's figures are never flagged. NHS England "
    "publishes what services submit, so such a figure is shown as published, with a caution "
    "in its tooltip and note and above the chart: check the publication's data-quality notes "
    "before relying on it.")

st.header("Where the data comes from", anchor="sources")
synthetic_quarters, real_quarters = ex.synthetic_periods("quarter")
synthetic_years, real_years = ex.synthetic_periods("year")
if synthetic_quarters or synthetic_years:
    st.warning(
        "Part of this data is a **synthetic sample**, generated by `scripts/make_sample.py` in "
        "the exact layout of NHS England's quarterly files, with magnitudes taken from the "
        "published annual figures. It is for demonstration only: "
        + ", ".join(filter(None, [
            f"{len(synthetic_quarters)} quarters" if synthetic_quarters else "",
            f"{len(synthetic_years)} financial years" if synthetic_years else ""]))
        + " hold synthetic values (hollow points on charts, *synthetic sample* in tables). Real "
        "quarterly files can be loaded on the Upload data page.", icon=":material/science:")
if real_years:
    st.success(f"**Financial years {real_years[0]} to {real_years[-1]} are published figures.** "
               f"Source: {provenance.ANNUAL_CREDIT}.", icon=":material/verified:")
st.markdown(
    """
NHS England (formerly NHS Digital) publishes *NHS Talking Therapies, for anxiety and depression*
statistics: monthly, quarterly and annual. This tool reads the **quarterly** files, which carry
recovery counts for England, NHS regions, ICBs and sub-ICB locations by ethnicity, and the
**annual** files (England, regions, ICBs and, before July 2022, STPs and CCGs). The
provider-level files are not needed for area figures. Choose *Quarterly* or *Financial year*
under *Period* in the sidebar.
"""
)
log = data.log(source.path, source.mtime)
if log:
    st.subheader("What was loaded, and when", anchor=False)
    render.dataframe(  # file names come from uploads: formula text neutralised
        # What kind of data comes first: the sample's files are named as NHS England names
        # its own (the sample is made in the published layout), and "Synthetic: yes" at the
        # far right was behind a sideways scroll (a helper's review).
        pd.DataFrame([{
            "Loaded (UTC)": e["loaded_at"],
            "Data": "synthetic sample" if e.get("synthetic") else "published",
            "New periods": ", ".join(e["periods_added"]),
            "Replaced periods": ", ".join(e["periods_replaced"]),
            "Files": ("synthetic, in the published layout: " if e.get("synthetic") else "")
            + "; ".join(e["sources"]),
            "Rows added": e["rows_added"],
            "Rows replaced": e["rows_replaced"],
            "Credit": e.get("credit", ""),
        } for e in reversed(log)]),
    )
st.subheader("Each period: its file, when it was loaded, and its source", anchor=False)
st.caption("Follow the link to NHS England's publication page to check any figure at its "
           "source. Synthetic sample periods have no publication.")
render.dataframe(
    data.sources_by_period(source.path, source.mtime),
    column_config={"Publication": st.column_config.LinkColumn(
        "Publication", display_text="NHS England publication")},
)
st.markdown("Publication pages: " + "; ".join(
    f"[{title}]({url})" for title, url in provenance.PUBLICATIONS.values()) + ".")

st.subheader("Download all data", anchor=False)
st.caption(
    "Every England, region and ICB figure of one period type, in the tidy layout of every "
    "other download (one row per area, group, period and measure, with counts, rates, "
    "intervals, rounding ranges and whether each row is published or synthetic). The complete "
    "store, with STP, CCG and sub-ICB rows, is the Parquet file.")
by_kind = [(k, n) for k, n in (("year", "financial years"), ("quarter", "quarters"))
           if ex.published(k)]
buttons = st.columns(len(by_kind) + 1)
for column, (kind, noun) in zip(buttons, by_kind, strict=False):
    column.download_button(
        f"All {noun} (CSV)", lambda kind=kind: data.all_rows_csv(source.path, source.mtime, kind),
        file_name=f"nhs-talking-therapies-recovery-{kind}.csv", mime="text/csv",
        on_click="ignore", icon=":material/download:", key=f"all-{kind}")
buttons[-1].download_button(
    f"Whole store (Parquet, {os.path.getsize(source.path) / 1e6:.1f} MB)",
    lambda: Path(source.path).read_bytes(), file_name="recovery.parquet",
    mime="application/vnd.apache.parquet", on_click="ignore", icon=":material/database:",
    key="all-parquet")

spans = [f"{noun} {found[0]} to {found[-1]}" for noun, found in (
    ("quarters", ex.published("quarter")), ("financial years", ex.published("year"))) if found]
st.caption(f"{len(ex.frame):,} rows; {'; '.join(spans) or 'no periods'}.")
