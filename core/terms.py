"""What the published files call things, and what the model (``core.model``) calls them.

Files differ in case, spacing and underscores (``Commissioning Region``, ``CommissioningRegion``,
``Count_Recovery``, ``CountRecovery``), so every name is normalised (``norm``) before it is
looked up, and each table below is the one place a published name is mapped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MEASURE_BY_ID = {
    "M076": "finished",
    "M179": "not_at_caseness",
    "M191": "recovered",
    "M193": "reliable_recovered",
    "M192": "published_recovery",
    "M195": "published_reliable",
}
#: Measure names: the quarterly files' MEASURE_NAME (old and new) and the annual column names.
MEASURE_BY_NAME = {
    "countfinishedcoursetreatment": "finished",
    "finishedcoursetreatment": "finished",
    "countnotatcaseness": "not_at_caseness",
    "notatcaseness": "not_at_caseness",
    "notcaseness": "not_at_caseness",
    "countrecovery": "recovered",
    "recovery": "recovered",
    "countreliablerecovery": "reliable_recovered",
    "reliablerecovery": "reliable_recovered",
    "percentagerecovery": "published_recovery",
    "recoveryrate": "published_recovery",
    "percentagereliablerecovery": "published_reliable",
    "reliablerecoveryrate": "published_reliable",
}
#: The quarterly GroupType and the annual OrgType name the same levels. STPs and CCGs (to
#: June 2022) keep their own levels: their areas are not those of the ICBs and sub-ICB
#: locations that replaced them.
LEVEL_BY_ORG_TYPE = {
    "england": "England",
    "commissioningregion": "Region",
    "region": "Region",
    "icb": "ICB",
    "stp": "STP",
    "subicb": "SubICB",
    "subicblocation": "SubICB",
    "ccg": "CCG",
}
#: Levels the published files carry that this tool leaves out on purpose (providers), as
#: ``norm`` writes them: any other GroupType or OrgType not read is named to the maintainer.
LEFT_OUT_ORG_TYPES = frozenset({"provider", "subicbprovider", "subicb/provider"})
#: Levels not read that a reader names (``note_unread_levels``): a few tell what happened.
MAX_UNREAD_NAMED = 5
#: NHS regions abolished in April 2019 (annual files to 2018-19 carry them). A region that became
#: exactly one current region maps onto it; the others were split, so their rows stay apart
#: under the level ``FormerRegion`` with a name that says so.
FORMER_REGIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Y54": ("North of England", ("Y62", "Y63")),
    "Y55": ("Midlands and East of England", ("Y60", "Y61")),
    "Y57": ("South of England", ("Y58", "Y59")),
}
REGION_NAMES = {
    "Y56": "London", "Y58": "South West", "Y59": "South East", "Y60": "Midlands",
    "Y61": "East of England", "Y62": "North West", "Y63": "North East and Yorkshire",
}
BREAKDOWN_BY_VARIABLE_TYPE = {"total": "Total", "bmegroup": "BME Group", "ethnicgroup": "Ethnic Group"}
MISSING_MARKS = {"", "*", "-", "null", "n/a", "na", "nan", "none", "."}
PLACEHOLDER_CODES = {
    "", "null", "all_icb", "all_subicb", "all_stp", "all_ccg", "all_provider", "invalidcode",
    "invalidregioncode", "unknown", "all", "none",
}
CANONICAL_GROUPS = {
    g.lower(): g
    for g in [
        "Total", "BME", "White British", "Not stated/Not known/Invalid", "Asian or Asian British",
        "Black or Black British", "Mixed", "Other Ethnic Groups", "White", "Indian", "Pakistani",
        "Bangladeshi", "Chinese", "Any other Asian background", "African", "Caribbean",
        "Any other Black background", "White and Black Caribbean", "White and Black African",
        "White and Asian", "Any other Mixed background", "British", "Irish",
        "Gypsy or Irish Traveller", "Any other White background", "Arab",
        "Any other ethnic group",
    ]
}


def norm(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.strip().lstrip("\ufeff")).lower()


def norm_arrow(arr: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(pc.utf8_lower(arr), pattern=r"[\s_\-]", replacement="")


@lru_cache(maxsize=64)
def _value_set(values: tuple[str, ...]) -> pa.Array:
    return pa.array(list(values), pa.string())


def matches(arr: pa.Array, normalise: Callable[[pa.Array], pa.Array], values) -> pa.Array:
    """Boolean mask: does each row's normalised value fall in ``values``?

    Normalising (case, spaces) runs over the distinct values only: these columns hold a few
    dozen values across a million rows.
    """
    distinct = pc.unique(arr)
    wanted = pc.is_in(normalise(distinct), value_set=_value_set(tuple(values)))
    raw = pc.filter(distinct, pc.fill_null(wanted, False))
    return pc.fill_null(pc.is_in(arr, value_set=raw), False)


def note_unread_levels(levels: pa.Array, where: pa.Array, into: set[str]) -> None:
    """Add to ``into`` the GroupType or OrgType values at ``where`` (rows otherwise wanted)
    that name no level this tool reads and none it leaves out on purpose: a file calling
    England 'National' lost its England rows in silence, and was then refused as cut short
    with no word of why (a helper's review). Called from the scan's threads: ``set.add``
    is atomic."""
    if not pc.any(pc.fill_null(where, False)).as_py():
        return
    for value in pc.unique(levels.filter(where)).to_pylist():
        if value is not None and norm(value) not in LEFT_OUT_ORG_TYPES \
                and len(into) < MAX_UNREAD_NAMED:
            into.add(str(value)[:60])


def keep(batch: pa.RecordBatch, mask: pa.Array) -> pa.RecordBatch | None:
    """The rows of ``batch`` where ``mask`` holds, with their index in the batch (``_line``)."""
    idx = pc.indices_nonzero(mask)
    if len(idx) == 0:
        return None
    small = batch.take(idx)
    return pa.RecordBatch.from_arrays(
        [small.column(i) for i in range(small.num_columns)] + [idx.cast(pa.int64())],
        names=[*small.schema.names, "_line"],
    )


def clean(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip()


def clean_labels(series: pd.Series) -> pd.Series:
    """``clean`` for columns that repeat a few thousand codes and names over many rows.

    Each distinct value is stripped once and every row points at that one string: row-by-row
    Python strings for four such columns were about 100 MB at a large upload's peak.
    """
    return per_value(series, _label)


def clean_codes(series: pd.Series) -> pd.Series:
    """``clean_labels`` in upper case: ODS codes are upper case, and 'qhm' stored beside 'QHM'
    would split one ICB's series in two."""
    return per_value(series, lambda v: _label(v).upper())


#: Control characters have no place in a code or a name: a file's escape sequences would
#: otherwise be stored and reach a terminal (``python -m core``) as they are.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
#: Nor have invisible ones: a byte-order mark or zero-width space made 'QF7' a new area that
#: prints exactly like the known one, and direction overrides reorder a name on screen.
_INVISIBLE = re.compile(r"[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]+")


def _label(text: str) -> str:
    return _INVISIBLE.sub("", _CONTROL.sub(" ", text)).strip()


def per_value(series: pd.Series, fn: Callable[[str], object]) -> pd.Series:
    """Apply ``fn`` once per distinct value: columns repeat a few dozen values many times."""
    codes, distinct = pd.factorize(series.astype(str))
    mapped = np.array([fn(v) for v in distinct] + [fn("nan")], dtype=object)
    # object, not str: inferring pandas' string type costs more than the look-up itself.
    return pd.Series(mapped[codes], index=series.index, dtype=object)


def lookup(series: pd.Series, table: dict) -> pd.Series:
    """Normalise (case, spaces, underscores) and look up, per distinct value."""
    return per_value(series, lambda v: table.get(norm(v)))


def is_placeholder(series: pd.Series) -> pd.Series:
    return per_value(series, lambda v: v.lower() in PLACEHOLDER_CODES).astype(bool)


def current_regions(df: pd.DataFrame) -> pd.DataFrame:
    """Region rows under a current region: abolished codes mapped or set apart (see above)."""
    old = (df["level"] == "Region") & df["area_code"].isin(list(FORMER_REGIONS))
    if not old.any():
        return df
    df = df.copy()
    for code, (label, successors) in FORMER_REGIONS.items():
        rows = old & (df["area_code"] == code)
        if len(successors) == 1:
            df.loc[rows, "area_code"] = successors[0]
            df.loc[rows, "area_name"] = REGION_NAMES[successors[0]]
        else:
            now = " and ".join(REGION_NAMES[s] for s in successors)
            df.loc[rows, "level"] = "FormerRegion"
            df.loc[rows, "area_name"] = (f"{label} (former NHS region to March 2019, since "
                                         f"split into {now})")
    return df


def add_groups(df: pd.DataFrame, vt: str, va: str, vb: str) -> pd.DataFrame:
    """Breakdown, group and broad group from the published VariableType/A/B."""
    canonical = lambda s: per_value(  # noqa: E731
        s, lambda v: CANONICAL_GROUPS.get(v.strip().lower(), v.strip())).to_numpy(object)
    breakdown = lookup(df[vt], BREAKDOWN_BY_VARIABLE_TYPE).to_numpy(object)
    a, b = canonical(df[va]), canonical(df[vb])
    b_empty = np.isin(np.array([str(v).lower() for v in b], dtype=object),
                      ["", "null", "all", "total", "nan", "none"])
    detailed = (breakdown == "Ethnic Group") & ~b_empty
    total = breakdown == "Total"
    as_text = lambda values: pd.Series(values, index=df.index, dtype=object)  # noqa: E731
    return df.assign(
        breakdown=as_text(np.where(detailed, "Ethnic Group (detailed)", breakdown)),
        group=as_text(np.where(total, "Total", np.where(detailed, b, a))),
        group_parent=as_text(np.where(total, "Total", a)),
    )
