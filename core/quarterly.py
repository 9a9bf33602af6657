"""The quarterly CSV: long, one row per area, breakdown and measure (about a million rows).

Only the recovery measures for England, regions, ICBs and sub-ICB locations (STPs and CCGs
before July 2022) by total, BME group and ethnic group are kept: a few rows in a hundred.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core import scan, sources, validate
from core.errors import InputError
from core.terms import (
    BREAKDOWN_BY_VARIABLE_TYPE,
    LEVEL_BY_ORG_TYPE,
    MEASURE_BY_ID,
    MEASURE_BY_NAME,
    add_groups,
    clean_codes,
    clean_labels,
    current_regions,
    is_placeholder,
    keep,
    lookup,
    matches,
    norm,
    norm_arrow,
    note_unread_levels,
    per_value,
)

COLUMNS = {
    # canonical: accepted header names, normalised (lower case, no spaces or underscores)
    "start": ("reportingperiodstart",),
    "end": ("reportingperiodend",),
    "icb": ("icb", "stp"),
    "icb_name": ("icbname", "stpname"),
    "sub": ("subicb", "ccg"),
    "sub_name": ("subicbname", "ccgname"),
    "group_type": ("grouptype",),
    "variable_type": ("variabletype",),
    "variable_a": ("variablea",),
    "variable_b": ("variableb",),
    "measure_id": ("measureid",),
    "measure_name": ("measurename",),
    "value": ("measurevaluesuppressed", "measurevalue"),
}
OPTIONAL = {"measure_id"}
HEADER_EXAMPLE = (
    '"REPORTING_PERIOD_START","REPORTING_PERIOD_END","ICB","ICBName","SubICB","SubICBName",'
    '"Provider","ProviderName","GroupType","VariableType","VariableA","VariableB","MEASURE_ID",'
    '"MEASURE_NAME","MEASURE_VALUE_SUPPRESSED"'
)


def resolve(header: list[str], spec: dict, name: str, optional: set, layout: str) -> dict:
    """Canonical column → the header's own spelling; a missing column is named."""
    found = {norm(h): h for h in header}
    out = {}
    for key, accepted in spec.items():
        hit = next((found[a] for a in accepted if a in found), None)
        if hit is not None:
            refuse_twice(header, [h for h in header if norm(h) in accepted], name)
        if hit is None and key not in optional:
            raise InputError(
                f"missing column {accepted[0]!r} (or it was renamed); a {layout} needs it. "
                f"Found columns: {', '.join(header[:20])}",
                file=name, row=1, column=accepted[0],
            )
        if hit is not None:
            out[key] = hit
    return out


def refuse_twice(header: list[str], same: list[str], name: str) -> None:
    """Refuse a header naming one column twice (or two spellings of it): which of them holds
    the values cannot be told, and reading either would be a guess."""
    if len(same) > 1:
        at = " and ".join(str(i + 1) for i, h in enumerate(header) if h in same)
        names = list(dict.fromkeys(same))
        what = (f"names column {names[0]!r} twice" if len(names) == 1 else
                "names one column in two ways (" + " and ".join(map(repr, names)) + ")")
        raise InputError(f"the header {what}, as columns {at}: which holds the values cannot "
                         "be told. Remove or rename the extra column",
                         file=name, row=1, column=names[-1])


def read(opener: sources.Opener, header: list[str], name: str, *,
         today: dt.date | None) -> validate.ReadResult:
    cols = resolve(header, COLUMNS, name, OPTIONAL, "quarterly file")
    measure_id, measure_name = cols.get("measure_id"), cols["measure_name"]
    upper = lambda a: pc.utf8_upper(pc.utf8_trim_whitespace(a))  # noqa: E731
    unread: set[str] = set()

    def select(batch: pa.RecordBatch) -> pa.RecordBatch | None:
        # The breakdown first: total, BME group and ethnic group are a few rows in a hundred
        # (age, gender, deprivation... are the rest), so everything else is tested on few rows.
        kept = keep(batch, matches(batch.column(cols["variable_type"]), norm_arrow,
                                   BREAKDOWN_BY_VARIABLE_TYPE))
        if kept is None:
            return None
        level = matches(kept.column(cols["group_type"]), norm_arrow, LEVEL_BY_ORG_TYPE)
        if measure_id:
            ids = kept.column(measure_id)
            measure = matches(ids, upper, MEASURE_BY_ID)
            no_id = matches(ids, upper, ["", "NULL"])
            if pc.any(no_id).as_py():  # only then are names looked at
                by_name = matches(kept.column(measure_name), norm_arrow, MEASURE_BY_NAME)
                measure = pc.or_(measure, pc.and_(no_id, by_name))
        else:
            measure = matches(kept.column(measure_name), norm_arrow, MEASURE_BY_NAME)
        note_unread_levels(kept.column(cols["group_type"]), pc.and_(pc.invert(level), measure),
                           unread)
        mask = pc.and_(level, measure)
        return kept.filter(mask) if pc.any(mask).as_py() else None

    narrow = [cols[c] for c in ("variable_type", "group_type", "measure_id", "measure_name")
              if c in cols]
    pieces, rows_read, encoding = scan.scan(opener, list(cols.values()), header, name,
                                               select, narrow)
    if rows_read == 0:
        raise InputError("the file has a header but no data rows", file=name)
    if not pieces:
        raise InputError(
            "no recovery measures found (M076 finished a course of treatment, M179 not at "
            "caseness, M191 recovery) for England, regions or ICBs: is this the quarterly "
            "Talking Therapies file?"
            + (f" ({validate.unread_words(unread)})" if unread else ""),
            file=name,
        )
    table = pa.Table.from_batches(pieces).combine_chunks()
    del pieces
    # The scan's blocks are freed but still held by the allocator: hand them back before
    # tidying, so the two phases' peaks do not add up.
    pa.default_memory_pool().release_unused()
    df = table.to_pandas().rename(columns={v: k for k, v in cols.items()})
    del table
    if "measure_id" not in df:
        df["measure_id"] = ""
    return _tidy(df, cols, name, rows_read, encoding, today=today, unread=unread)


def _tidy(df: pd.DataFrame, cols: dict, name: str, rows_read: int, encoding: str, *,
          today: dt.date | None, unread: set[str] | None = None) -> validate.ReadResult:
    skipped: Counter = Counter()
    by_id = per_value(df["measure_id"], lambda v: MEASURE_BY_ID.get(v.strip().upper()))
    by_name = lookup(df["measure_name"], MEASURE_BY_NAME)
    df["measure"] = by_id.where(by_id.notna(), by_name)
    df["level"] = lookup(df["group_type"], LEVEL_BY_ORG_TYPE)

    # Object arrays once, then numpy choices: each Series handed to np.select is converted
    # again, and that conversion was most of the cost.
    icb, icb_name, sub, sub_name = ((clean_codes if c in ("icb", "sub") else clean_labels)(
        df[c]).to_numpy(object) for c in ("icb", "icb_name", "sub", "sub_name"))
    level = df["level"].to_numpy(object)
    is_england = level == "England"
    is_sub = np.isin(level, ["SubICB", "CCG"])
    is_icb = np.isin(level, ["Region", "ICB", "STP"])  # regions' codes are in the ICB column
    as_text = lambda values: pd.Series(values, index=df.index, dtype=object)  # noqa: E731
    df["area_code"] = as_text(np.where(is_england, "ENG",
                                       np.where(is_icb, icb, np.where(is_sub, sub, ""))))
    df["area_name"] = as_text(np.where(is_england, "England",
                                       np.where(is_icb, icb_name, np.where(is_sub, sub_name, ""))))
    df["parent_code"] = as_text(np.where(is_sub, icb, None))
    df["parent_name"] = as_text(np.where(is_sub, icb_name, None))
    # The published columns these came from are not needed again; rows dropped below would
    # otherwise copy them too (a large upload's peak).
    df = df.drop(columns=["icb", "icb_name", "sub", "sub_name", "group_type", "measure_id",
                          "measure_name"])
    unknown = (df["level"] != "England") & is_placeholder(df["area_code"])
    if unknown.any():
        skipped["area code unknown or a placeholder (InvalidRegionCode, Unknown, ...)"] += int(
            unknown.sum())
        df = df[~unknown]
    df = current_regions(df)
    df = add_groups(df, "variable_type", "variable_a", "variable_b")
    df = validate.add_periods(df, name, cols, today=today)
    years = (df["period_type"] == "year").to_numpy()
    if years.any():  # a year among quarters: two files pasted together, or the wrong dates
        at = df[years].iloc[0]
        raise InputError(
            f"a quarterly file with rows for a whole financial year ({at['period']}): NHS "
            "England's quarterly files hold quarters. Load an annual file on its own",
            file=name, row=int(at["_line"]), column=cols["start"])
    return validate.finish(df, name, "quarterly CSV", rows_read, encoding, skipped, cols["value"],
                           unread or ())
