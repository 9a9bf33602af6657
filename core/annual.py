"""The annual CSV: wide, one row per organisation and breakdown, one column per measure.

Two header generations are read alike (``CountRecovery`` to 2019-20, ``Count_Recovery``
after): both spellings normalise to the same names in ``terms.MEASURE_BY_NAME``. The file
does not say which year it covers, so its name must (``..._2024-25.csv``), or the caller does.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core import periods, scan, sources, terms, validate
from core.errors import InputError, YearError
from core.quarterly import refuse_twice, resolve

ID_COLUMNS = {
    "org_type": ("orgtype",),
    "org_code": ("orgcode",),
    "org_name": ("orgname",),
    "variable_type": ("variabletype",),
    "variable_a": ("variablea",),
    "variable_b": ("variableb",),
}


def _year(name: str, period: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    years = periods.financial_years_in_name(name)
    named = years[0] if len(years) == 1 else None
    given = period.strip().replace("/", "-") if period else None
    if len(years) > 1 and given not in years:
        raise YearError(
            f"the file's name holds {len(years)} financial years ({' and '.join(years)})"
            + (f", and the year given, {period}, is neither" if period else "")
            + ": give the year the file covers (--period 2024-25 on the command line, or the "
            "year box on the Upload data page)", file=name)
    if period and named and named != given:
        raise YearError(
            f"the file's name says {named} but the year given is {period}: give the year the "
            "file covers (or rename the file if its name is wrong)", file=name)
    year = period or named
    if year is None:
        raise YearError(
            "cannot tell which financial year this annual file covers: name the file with its "
            "year (for example '..._2024-25.csv') or give the year: --period 2024-25 on the command "
            "line, or the year box on the Upload data page",
            file=name,
        )
    try:
        start = periods.financial_year_start_date(year)
    except ValueError as exc:
        raise YearError(str(exc), file=name) from exc
    end = dt.date(start.year + 1, 3, 31)
    if end > today:
        raise YearError(f"the financial year {year} has not ended yet: it cannot have been "
                        "published", file=name)
    problem = validate.check_period(start, end, today)
    if problem:
        raise YearError(problem, file=name)
    return start, end


def read(opener: sources.Opener, header: list[str], name: str, *, period: str | None,
         today: dt.date | None) -> validate.ReadResult:
    cols = resolve(header, ID_COLUMNS, name, set(), "annual file")
    measure_cols: dict[str, str] = {}
    for h in header:
        m = terms.MEASURE_BY_NAME.get(terms.norm(h))
        if m and terms.norm(h).startswith(("count", "percentage")):
            if m in measure_cols:
                refuse_twice(header, [measure_cols[m], h], name)
            measure_cols[m] = h
    for needed, column in (("finished", "Count_FinishedCourseTreatment"),
                           ("not_at_caseness", "Count_NotAtCaseness"),
                           ("recovered", "Count_Recovery")):
        if needed not in measure_cols:
            raise InputError(
                f"missing the {needed.replace('_', ' ')} column ({column}, or "
                f"{column.replace('_', '')} before 2020-21): an annual file must carry the "
                "recovery counts",
                file=name, row=1, column=column,
            )
    start, end = _year(name, period, today or dt.date.today())

    unread: set[str] = set()

    def select(batch: pa.RecordBatch) -> pa.RecordBatch | None:
        level = terms.matches(batch.column(cols["org_type"]), terms.norm_arrow,
                              terms.LEVEL_BY_ORG_TYPE)
        breakdown = terms.matches(batch.column(cols["variable_type"]), terms.norm_arrow,
                                  terms.BREAKDOWN_BY_VARIABLE_TYPE)
        terms.note_unread_levels(batch.column(cols["org_type"]),
                                 pc.and_(pc.invert(level), breakdown), unread)
        return terms.keep(batch, pc.and_(level, breakdown))

    columns = list(cols.values()) + list(measure_cols.values())
    pieces, rows_read, encoding = scan.scan(opener, columns, header, name, select)
    if rows_read == 0:
        raise InputError("the file has a header but no data rows", file=name)
    if not pieces:
        raise InputError(
            "no England, region, ICB or sub-ICB rows by total, BME group or ethnic group found"
            + (f" ({validate.unread_words(unread)})" if unread else ""),
            file=name,
        )
    wide = pa.Table.from_batches(pieces).to_pandas()
    wide = wide.rename(columns={v: k for k, v in cols.items()})
    long = wide.melt(id_vars=[*cols, "_line"], value_vars=list(measure_cols.values()),
                     var_name="value_column", value_name="value")
    long["measure"] = terms.lookup(long["value_column"], terms.MEASURE_BY_NAME)
    long["level"] = terms.lookup(long["org_type"], terms.LEVEL_BY_ORG_TYPE)
    code, org_name = terms.clean_codes(long["org_code"]), terms.clean_labels(long["org_name"])
    england = long["level"] == "England"
    long["area_code"] = np.where(england, "ENG", code)
    long["area_name"] = np.where(england, "England", org_name)
    long["parent_code"] = None
    long["parent_name"] = None
    skipped: Counter = Counter()
    unknown = ~england & terms.is_placeholder(long["area_code"])
    if unknown.any():
        skipped["area code unknown or a placeholder (UNKNOWN, ...)"] += int(
            unknown.sum() // max(len(measure_cols), 1))
        long = long[~unknown]
    long = terms.current_regions(long)
    long = terms.add_groups(long, "variable_type", "variable_a", "variable_b")
    long = long.assign(period_start=start, period_end=end,
                       period=periods.financial_year_label(start), period_type="year")
    return validate.finish(long, name, "annual CSV", rows_read, encoding, skipped, "", unread)
