"""The tidy data model every part of the product shares.

One row of the store is one observation: one **period**, one **area**, one **population
group**. Its variables are the four published counts and the two published percentages.

============================  ==================================================================
column                        meaning
============================  ==================================================================
``period``                    label: ``2024/25 Q3`` for a quarter, ``2024/25`` for a year
``period_start``/``_end``     first and last day (dates)
``period_type``               ``quarter`` or ``year``
``level``                     ``England``, ``Region`` (NHS commissioning region), ``ICB``,
                              ``SubICB`` (sub-ICB location; the CCG before July 2022)
``area_code``/``area_name``   ODS code and name as published (England is ``ENG``)
``parent_code``/``_name``     region of an ICB (from ``data/reference/icb_regions.csv`` when
                              the file does not say), ICB of a sub-ICB location
``breakdown``                 ``Total``, ``BME Group``, ``Ethnic Group`` (broad) or
                              ``Ethnic Group (detailed)``
``group``                     ``Total``, ``BME``, ``White British``, ``Asian or Asian
                              British``, ``Indian``, ... (case normalised)
``group_parent``              broad group of a detailed group; else equal to ``group``
``finished``                  finished a course of treatment (M076)
``not_at_caseness``           of those, not a clinical case at the start (M179)
``recovered``                 moved to recovery (M191)
``reliable_recovered``        reliable recovery (M193)
``published_recovery``        published recovery percentage (M192), 0–100
``published_reliable``        published reliable recovery percentage (M195), 0–100
``suppressed``                at least one count was withheld (``*``) or, for a group summed
                              from detailed groups, at least one part was
``synthetic``                 the row comes from the bundled synthetic sample, not NHS England
``derived``                   the product computed the counts by summing other rows of the same
                              file (BME and White British from the Ethnic Group rows where no
                              BME Group row was published; a broad ethnic group from its
                              detailed groups); False where the file published the row
``source``                    file the row was read from
============================  ==================================================================

Counts are nullable integers: a suppressed or missing count is null, never 0. Rates are never
stored; they are computed from counts (``core.stats``) so that groups and periods can be
combined by summing counts, as the reference tools do.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
DATA_DIR = PROJECT_DIR / "data"
DEFAULT_STORE = DATA_DIR / "recovery.parquet"
ICB_REGIONS_CSV = DATA_DIR / "reference" / "icb_regions.csv"

TARGET_PERCENT = 50.0

#: ``STP`` and ``CCG`` are the areas published to June 2022 (their boundaries are not those of
#: the ICBs and sub-ICB locations that followed); ``FormerRegion`` is an NHS region abolished in
#: April 2019 that was split between two current regions.
LEVELS = ("England", "Region", "ICB", "SubICB", "STP", "CCG", "FormerRegion")
BREAKDOWNS = ("Total", "BME Group", "Ethnic Group", "Ethnic Group (detailed)")

COUNT_COLUMNS = ("finished", "not_at_caseness", "recovered", "reliable_recovered")
PERCENT_COLUMNS = ("published_recovery", "published_reliable")
KEY_COLUMNS = ("period_start", "period_end", "level", "area_code", "breakdown", "group")

#: Measures the product shows, each a numerator over finished − not at caseness.
MEASURES: dict[str, dict[str, str]] = {
    "recovery": {
        "label": "Recovery rate",
        "numerator": "recovered",
        "numerator_label": "Recovered",
        "published": "published_recovery",
        "definition": (
            "People who moved to recovery, as a share of those who finished a course of "
            "treatment and were a clinical case at the start."
        ),
    },
    "reliable_recovery": {
        "label": "Reliable recovery rate",
        "numerator": "reliable_recovered",
        "numerator_label": "Reliably recovered",
        "published": "published_reliable",
        "definition": (
            "People who moved to recovery and also showed reliable improvement, as a share of "
            "those who finished a course of treatment and were a clinical case at the start."
        ),
    },
}

#: What every table and tooltip calls a rate's denominator (its numerator: the measure's
#: ``numerator_label``), so the counts read the same on every page.
DENOMINATOR_LABEL = "Finished treatment, at caseness"


def count_labels(measure: str) -> tuple[str, str]:
    """(numerator, denominator) as tables and tooltips name them."""
    return MEASURES[measure]["numerator_label"], DENOMINATOR_LABEL


BAME_DEFINITION = (
    "Black, Asian and minority ethnic (BAME) means every ethnic group except White British, "
    "as NHS England defines its 'BME' group: it includes White Irish, Gypsy or Irish "
    "Traveller and any other White background, and excludes people whose ethnicity was not "
    "stated or not known."
)


@dataclass(frozen=True)
class Population:
    """A group a user can pick as "the population", with everything said about it anywhere:
    the breakdown its rows are stored under, its plain-language label, what it contains, and
    the line dash and point shape that repeat it on a chart (meaning never by colour alone)."""

    code: str
    breakdown: str
    label: str
    note: str
    dash: tuple[int, ...]
    shape: str


#: The populations, in the order offered, by stored group name.
POPULATIONS: dict[str, Population] = {p.code: p for p in (
    Population("Total", "Total", "Whole population",
               "everyone who finished a course of treatment", (1, 0), "circle"),
    Population("BME", "BME Group", "Black, Asian and minority ethnic (BAME)", BAME_DEFINITION,
               (7, 4), "triangle-up"),
    Population("White British", "BME Group", "White British",
               "people recorded as White British (NHS ethnic category A)", (2, 3), "square"),
    Population("Asian or Asian British", "Ethnic Group", "Asian or Asian British",
               "Indian, Pakistani, Bangladeshi and any other Asian background",
               (10, 3, 2, 3), "diamond"),
    Population("Black or Black British", "Ethnic Group", "Black or Black British",
               "Caribbean, African and any other Black background", (4, 2, 1, 2), "cross"),
    Population("Mixed", "Ethnic Group", "Mixed",
               "White and Black Caribbean, White and Black African, White and Asian and any "
               "other mixed background", (12, 4), "triangle-down"),
    Population("Other Ethnic Groups", "Ethnic Group", "Other Ethnic Groups",
               "Chinese and any other ethnic group", (1, 3), "triangle-right"),
    Population("White", "Ethnic Group", "White",
               "all White groups: British, Irish, Gypsy or Irish Traveller, any other White",
               (6, 2, 2, 2, 2, 2), "wedge"),
)}


SCHEMA = pa.schema(
    [
        ("period", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("period_type", pa.string()),
        ("level", pa.string()),
        ("area_code", pa.string()),
        ("area_name", pa.string()),
        ("parent_code", pa.string()),
        ("parent_name", pa.string()),
        ("breakdown", pa.string()),
        ("group", pa.string()),
        ("group_parent", pa.string()),
        ("finished", pa.int64()),
        ("not_at_caseness", pa.int64()),
        ("recovered", pa.int64()),
        ("reliable_recovered", pa.int64()),
        ("published_recovery", pa.float64()),
        ("published_reliable", pa.float64()),
        ("suppressed", pa.bool_()),
        ("synthetic", pa.bool_()),
        ("derived", pa.bool_()),
        ("source", pa.string()),
    ]
)
COLUMNS = tuple(SCHEMA.names)


def whole_numbers(values: object) -> pd.arrays.IntegerArray:
    """Counts held as floats (NaN where missing) as pandas' nullable whole numbers.

    Made directly rather than by casting ``Float64`` to ``Int64``: pandas silences that cast's
    "invalid value encountered in cast" (the NaN under each missing value) with
    ``warnings.catch_warnings``, which is not thread-safe, so while the background preparation
    cast too, the warning escaped into the server's log and a test run's summary. The result is
    the same: values truncated to whole numbers, as the cast does."""
    v = np.asarray(values, dtype="float64")
    missing = np.isnan(v)
    return pd.arrays.IntegerArray(np.where(missing, 0.0, v).astype(np.int64), missing)


def empty_frame() -> pd.DataFrame:
    return conform(pd.DataFrame({c: [] for c in COLUMNS}))


def compact(df: pd.DataFrame) -> pd.DataFrame:
    """The same frame with each Arrow-backed column in one contiguous chunk.

    A store read from Parquet, or merged by concatenation, holds its text columns in several
    chunks, and taking a few rows from a chunked column costs some thirty times more than from
    a contiguous one: for the app, which picks rows out of the store on every new view, that
    was most of the time. Columns are rebuilt one at a time, so memory grows by at most one
    column while this runs.
    """
    changed = {}
    for name in df.columns:
        arrow = getattr(df[name].array, "__arrow_array__", None)
        if arrow is None:
            continue
        chunked = arrow()
        if isinstance(chunked, pa.ChunkedArray) and chunked.num_chunks > 1:
            changed[name] = pd.array(chunked.combine_chunks(), dtype=df[name].dtype)
    if not changed:
        return df
    out = df.assign(**changed)
    pa.default_memory_pool().release_unused()  # the chunks just replaced (see Store.load)
    return out


def conform(df: pd.DataFrame) -> pd.DataFrame:
    """Give a frame exactly the model's columns and dtypes, so every producer agrees.

    A frame that already conforms is returned as it is: the store is large, and copying it
    just to confirm its shape is the biggest cost of a merge.
    """
    if tuple(df.columns) == COLUMNS and _conforms(df):
        return df
    out = pd.DataFrame(index=df.index)
    for field in SCHEMA:
        col = df[field.name] if field.name in df else pd.Series(pd.NA, index=df.index)
        if pa.types.is_int64(field.type):
            out[field.name] = pd.to_numeric(col, errors="coerce").astype("Int64")
        elif pa.types.is_float64(field.type):
            out[field.name] = pd.to_numeric(col, errors="coerce").astype("float64")
        elif pa.types.is_boolean(field.type):
            out[field.name] = col.fillna(False).astype(bool)
        elif pa.types.is_date32(field.type):
            out[field.name] = pd.to_datetime(col).dt.date.astype(object)
        else:
            # Arrow-backed strings: a tenth of the memory of Python string objects.
            out[field.name] = col.astype("str")
    return out.reset_index(drop=True)


def _conforms(df: pd.DataFrame) -> bool:
    for field in SCHEMA:
        dtype = df[field.name].dtype
        if pa.types.is_int64(field.type) and str(dtype) != "Int64":
            return False
        if pa.types.is_float64(field.type) and dtype != "float64":
            return False
        if pa.types.is_boolean(field.type) and str(dtype) != "bool":
            return False
        if pa.types.is_string(field.type) and str(dtype) != "str":
            return False
        if pa.types.is_date32(field.type) and str(dtype) != "object":
            return False
    return isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1


def group_label(group: str) -> str:
    """The population's label; any other group (a detailed one) as stored."""
    known = POPULATIONS.get(group)
    return known.label if known is not None else group


#: The classification a breakdown's rows belong to, as the ethnic-groups chart's blocks, its
#: table and its CSV name it. NHS England publishes the BAME/White British split and the
#: broad (and detailed) ethnic groups as separate classifications of the same people, so a
#: reader must see which one a row is from: "Not stated/Not known/Invalid" is in both, and
#: White British is part of White.
CLASSIFICATIONS = {"Total": "Whole population", "BME Group": "BAME and White British",
                   "Ethnic Group": "Broad ethnic groups",
                   "Ethnic Group (detailed)": "Detailed ethnic groups"}
#: The group whose ethnicity was not recorded: last in its classification, after the groups
#: a reader compares.
NOT_STATED = "Not stated/Not known/Invalid"
#: A block's title when its broad groups are each followed by their detailed groups.
BROAD_AND_DETAILED = "Broad ethnic groups and their detailed groups"


def classification_blocks(classifications: list[str]) -> list[tuple[str, int, int]]:
    """The runs of rows of one classification, in order, as (title, first row, row after
    the last): what the ethnic-groups chart heads and its text alternative names. Detailed
    groups stay in their broad groups' block (each follows its broad group), whose title
    then says so."""
    blocks: list[tuple[str, int, int]] = []
    detailed = CLASSIFICATIONS["Ethnic Group (detailed)"]
    for i, c in enumerate(classifications):
        name = CLASSIFICATIONS["Ethnic Group"] if c == detailed else c
        if blocks and blocks[-1][0] in (name, BROAD_AND_DETAILED):
            title = BROAD_AND_DETAILED if c == detailed else blocks[-1][0]
            blocks[-1] = (title, blocks[-1][1], i + 1)
        else:
            blocks.append((BROAD_AND_DETAILED if c == detailed else name, i, i + 1))
    return blocks


@lru_cache(maxsize=1)
def icb_regions() -> pd.DataFrame:
    """The 42 ICBs of July 2022 – March 2026 with their NHS regions (reference data).

    Areas that are not in it (merged ICBs from April 2026, older STPs) keep whatever parent the
    file gave them; the set of areas is never assumed to be these 42.
    """
    return pd.read_csv(ICB_REGIONS_CSV, dtype=str)
