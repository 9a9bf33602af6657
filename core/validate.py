"""From kept rows to the tidy model: values, periods, one row per period, area and group, and
the checks that refuse a file rather than store something wrong.

Both readers hand over long rows (one per measure) carrying their file line (``_line``), so
every refusal names the file, the row and, where there is one, the column.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core import derive, geography, model, periods, plausible, terms
from core.errors import InputError, printable
from core.terms import MISSING_MARKS, clean

#: Areas a file may hold. A real quarter holds about 160 (England, 7 regions, 42 ICBs, 106
#: sub-ICB locations) and the largest annual file about 265 (with CCGs and STPs).
MAX_AREAS = 3_000
#: The programme began in April 2008: no period can start earlier.
FIRST_DAY = dt.date(2008, 4, 1)


@dataclass
class ReadResult:
    """What a reader found: the tidy rows plus the facts a maintainer's report needs."""

    frame: pd.DataFrame
    source: str
    kind: str
    rows_read: int = 0
    rows_kept: int = 0
    skipped: Counter = field(default_factory=Counter)
    suppressed_values: int = 0
    duplicate_rows: int = 0
    derived_groups: int = 0
    encoding: str = "utf-8"
    #: GroupType or OrgType values of rows otherwise wanted that name no level this tool reads
    #: (``terms.note_unread_levels``).
    unread_levels: tuple[str, ...] = ()

    @property
    def periods(self) -> list[str]:
        if self.frame.empty:
            return []
        f = self.frame.drop_duplicates("period").sort_values("period_start")
        return list(f["period"])

    @functools.cached_property
    def layout_warnings(self) -> list[str]:
        """Breakdowns or population groups the file lacks or names in a way the product does
        not know (``layout_warnings``)."""
        unread = unread_words(self.unread_levels)
        return layout_warnings(self.frame) + ([f"Warning: {unread}."] if unread else [])

    @functools.cached_property
    def code_warnings(self) -> list[str]:
        """Area codes no reference table knows, each named (``geography.unknown_codes``)."""
        return geography.unknown_code_warnings(self.frame)

    @functools.cached_property
    def unknown_code_names(self) -> list[str]:
        """The codes of ``code_warnings`` as "SubICB code ZZ8 (its name)", for a list."""
        return geography.unknown_code_names(self.frame)

    #: Beyond this many unknown codes, one warning names them together (a new geography's
    #: sub-ICB locations are dozens: a warning each filled a screen).
    MANY_CODES = 3

    def codes_in_one(self) -> str:
        """The unknown codes in one warning, when there are more than ``MANY_CODES``; ""
        otherwise (``code_warnings`` names each). The command line and the Upload page say
        this same sentence."""
        n = len(self.code_warnings)
        if n <= self.MANY_CODES:
            return ""
        return (f"{n:,} area codes are not in the reference tables of NHS commissioning "
                "geography (data/reference). Their rows are kept, under \"Region unknown\" "
                "where the region cannot be told; check the codes, or update the reference "
                "tables.")

    @property
    def warnings(self) -> list[str]:
        """Both kinds: the rows are kept, so these are warnings, not refusals (each kind is
        worked out once per file, not on every rerun of the page showing it)."""
        return [*self.layout_warnings, *self.code_warnings]

    def summary(self) -> list[str]:
        f = self.frame
        lines = [
            # "values", not "rows": an annual file's row holds several measures, so "read 1
            # rows, kept 3" read as an error to a maintainer.
            f"{printable(self.source)}: {self.kind}, read {_count(self.rows_read, 'row')}, kept "
            f"{_count(self.rows_kept, 'measure value')} (the recovery measures for England, "
            "regions, ICBs and sub-ICB locations by total, BME group and ethnic group).",
            f"Periods: {', '.join(self.periods) or 'none'}.",
            "Areas: "
            + ", ".join(f"{n} {lvl}" for lvl, n in f.groupby("level")["area_code"].nunique().items())
            + f"; population groups: {f['group'].nunique()}.",
        ]
        if self.suppressed_values:
            lines.append(f"Suppressed or missing values (* and similar): {self.suppressed_values:,}.")
        if self.duplicate_rows:
            lines.append(f"Exact duplicate rows ignored: {self.duplicate_rows:,}.")
        if self.derived_groups:
            lines.append("Groups summed from published groups (marked derived): "
                         f"{_count(self.derived_groups, 'row')}.")
        for reason, n in sorted(self.skipped.items()):
            lines.append(f"Rows skipped, {reason}: {n:,}.")
        if self.encoding != "utf-8":
            lines.append(f"Text encoding: {self.encoding} (converted).")
        return lines


def unread_words(levels: Sequence[str]) -> str:
    """The GroupType or OrgType values not read, in words ('' when none)."""
    if not levels:
        return ""
    named = ", ".join(repr(printable(v)) for v in sorted(levels))
    return (f"rows with GroupType or OrgType {named} were not read: this tool reads England, "
            "CommissioningRegion, ICB and SubICB rows (STP and CCG in older files), and "
            "leaves out providers. If NHS England renamed a level, its rows are missing")


def unread_levels(results: Sequence[ReadResult]) -> tuple[str, ...]:
    """Every file's ``unread_levels``, once each."""
    return tuple(dict.fromkeys(v for r in results for v in r.unread_levels))


#: The ethnicity breakdowns every published file has (a VariableType renamed, say
#: 'Ethnicity', is not read, and the pages about ethnic groups would have nothing).
ETHNIC_BREAKDOWNS = ("BME Group", "Ethnic Group")  # the VariableType that names each


def layout_warnings(frame: pd.DataFrame) -> list[str]:
    """What a changed layout drops or misnames without any row being wrong: a file with no
    rows by BME group or by ethnic group, or a population group the product does not know
    ('BAME' for 'BME'), whose rows are kept under that name but shown on no page."""
    if frame.empty:
        return []
    out = []
    have = set(frame["breakdown"].astype(str))
    for breakdown in ETHNIC_BREAKDOWNS:
        if breakdown not in have:
            out.append(f"Warning: the file has no rows by {breakdown.lower()} (VariableType "
                       f"'{breakdown}'), so the ethnic-inequality figures will be missing "
                       "for its periods. If the file names it differently, it was not read.")
    levels = set(frame["level"].astype(str))
    if "England" not in levels:
        out.append("Warning: the file has no England rows, so the England figures (the first "
                   "page's headline) will be missing for its periods. Check the GroupType or "
                   "OrgType of the England rows.")
    if not levels - {"England", "Region", "FormerRegion"}:
        out.append("Warning: the file has no rows below region (no ICB or sub-ICB rows, nor "
                   "CCG or STP rows), so no ICB figures come from it. If NHS England renamed "
                   "the OrgType or GroupType of those rows, they were not read.")
    names = frame.groupby(["period", "level", "area_code"], sort=True)["area_name"].nunique()
    for (_, level, code), n in names[names > 1].items():
        shown = frame.loc[(frame["area_code"] == code).to_numpy() & (frame["level"] == level)
                          .to_numpy(), "area_name"].drop_duplicates().head(3)
        out.append(f"Warning: {level} {code} has {n} names in the file "
                   f"({'; '.join(repr(x) for x in shown)}): each row keeps its own. Check "
                   "the file: one code, one name.")
        break  # one is enough to send the maintainer to the file
    out += geography.parent_warnings(frame)
    known = set(terms.CANONICAL_GROUPS.values())
    odd = sorted({str(g) for g in frame["group"].dropna().unique()} - known)
    if odd:
        out.append(f"Warning: population group{'s' if len(odd) > 1 else ''} "
                   + ", ".join(repr(g) for g in odd[:10])
                   + (f" and {len(odd) - 10} more" if len(odd) > 10 else "")
                   + " not known to the product (it reads BME, White British and NHS England's "
                   "ethnic groups): the rows are kept but no page shows them. Check VariableA.")
    return out + plausible.published_rate_warnings(frame)


def check_period(start: dt.date, end: dt.date, today: dt.date) -> str | None:
    """Why a period cannot be in a published file, or None."""
    label = periods.period_label(start, end)
    if start < FIRST_DAY:
        return (f"the period {label} starts before April 2008, when the programme began: "
                "the date is wrong")
    if end > today:
        return (f"the period {label} ends on {end}, after today ({today}): a quarter from the "
                "future cannot have been published")
    if label in periods.UNPUBLISHED_QUARTERS:
        return f"the quarter {label} was never published: " + periods.UNPUBLISHED_QUARTERS[label]
    return None


def add_periods(df: pd.DataFrame, name: str, cols: dict, *, today: dt.date | None) -> pd.DataFrame:
    """Period columns from the published start and end dates, refusing impossible periods."""
    today = today or dt.date.today()
    # A file holds one or a few periods: factorize each date column, then the pairs of codes.
    start_codes, start_values = pd.factorize(df["start"])
    end_codes, end_values = pd.factorize(df["end"])
    width = len(end_values) + 1
    codes, pair_codes = pd.factorize(start_codes * width + end_codes)
    first_line = pd.Series(df["_line"].to_numpy()).groupby(codes).min()
    starts, ends, labels, kinds = [], [], [], []
    for k, c in enumerate(pair_codes):
        line = int(first_line[k])
        s, e = start_values[c // width], end_values[c % width]
        try:
            start = periods.parse_date(s)
        except ValueError as exc:
            raise InputError(str(exc), file=name, row=line, column=cols["start"]) from exc
        try:
            end = periods.parse_date(e)
        except ValueError as exc:
            raise InputError(str(exc), file=name, row=line, column=cols["end"]) from exc
        kind = periods.period_type(start, end)
        if kind is None:
            raise InputError(f"the period {start} to {end} is not a financial quarter or year",
                             file=name, row=line, column=cols["start"])
        problem = check_period(start, end, today)
        if problem:
            raise InputError(problem, file=name, row=line, column=cols["start"])
        starts.append(start)
        ends.append(end)
        labels.append(periods.period_label(start, end))
        kinds.append(kind)
    take = lambda values: np.asarray(values, dtype=object)[codes]  # noqa: E731
    return df.assign(period_start=take(starts), period_end=take(ends), period=take(labels),
                     period_type=take(kinds))


def _numbers(text: pd.Series, missing: pd.Series) -> pd.Series:
    """Numbers from text, NaN where missing or not a number (Arrow first: several times faster
    than ``pd.to_numeric``; any text it cannot read sends the column the slow way)."""
    try:
        arrow = pc.if_else(pa.array(missing.to_numpy(dtype=bool)), pa.scalar(None, pa.string()),
                           pa.array(text, pa.string()))
        values = pc.cast(arrow, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pd.to_numeric(text, errors="coerce")
    return pd.Series(values, index=text.index)


def _column(df: pd.DataFrame, i, value_column: str) -> str:
    return df.at[i, "value_column"] if "value_column" in df else value_column


#: No count of people can exceed England's population (about 57 million): a larger one is a
#: corrupt or mistyped value, and one beyond 2**63 cannot even be stored as a whole number.
MAX_COUNT = 60_000_000


def parse_values(df: pd.DataFrame, name: str, value_column: str) -> pd.DataFrame:
    """``number`` and ``missing`` (a suppression mark on a count) from the published text."""
    raw = clean(df["value"])
    missing = raw.str.lower().isin(MISSING_MARKS)
    number = _numbers(raw.str.replace(",", "", regex=False), missing)
    is_count = df["measure"].isin(model.COUNT_COLUMNS)
    for problem, cond in (
        ("expected a number or a suppression mark (*)", ~missing & number.isna()),
        ("a count cannot be negative", is_count & (number < 0)),
        ("a count must be a whole number", is_count & number.notna() & (number % 1 != 0)),
        (f"a count cannot exceed {MAX_COUNT:,} (more people than live in England)",
         is_count & (number > MAX_COUNT)),
        ("a count in scientific notation has lost its last digits (Excel shows large numbers "
         "so in a narrow column: use the file as NHS England published it)",
         is_count & number.notna() & raw.str.contains("e", case=False, regex=False)),
        ("a percentage with a comma (a decimal comma, as spreadsheets set to some languages "
         "save it, would be read as thousands): use the file as NHS England published it",
         ~is_count & raw.str.contains(",", regex=False)),
        ("a percentage must be between 0 and 100", ~is_count & ((number < 0) | (number > 100))),
    ):
        if cond.any():
            i = cond.idxmax()
            raise InputError(f"{problem} for {df.at[i, 'measure']}, found {raw[i][:40]!r}",
                             file=name, row=int(df.at[i, "_line"]),
                             column=_column(df, i, value_column))
    return df.assign(number=number, missing=missing & is_count)


def _drop_duplicates(df: pd.DataFrame, name: str) -> tuple[pd.DataFrame, int]:
    key = [*model.KEY_COLUMNS, "measure"]
    dup = df.duplicated(key, keep=False)
    if not dup.any():
        return df, 0
    d = df[dup]
    distinct = d.groupby(key, dropna=False)["number"].nunique(dropna=False)
    if (distinct > 1).any():
        k = distinct[distinct > 1].index[0]
        rows = d.set_index(key).loc[[k], "_line"].tolist()
        raise InputError(
            f"two different values for the same thing: {k[5]} ({k[2]} {k[3]}, {k[4]}, "
            f"{k[6]}) appears on rows {', '.join(str(int(r)) for r in rows[:5])} with "
            "different values",
            file=name, row=int(rows[0]),
        )
    return df.drop_duplicates(key), int(df.duplicated(key).sum())


def finish(df: pd.DataFrame, name: str, kind: str, rows_read: int, encoding: str,
           skipped: Counter, value_column: str, unread: Iterable[str] = ()) -> ReadResult:
    """Parse values, refuse contradictions and incomplete rows, one row per period/area/group."""
    df = parse_values(df, name, value_column)
    england = (df["level"] == "England").to_numpy()
    blank = england & df["missing"].to_numpy(dtype=bool)
    zero = england & (df["measure"] == "finished").to_numpy() & (
        df["number"].to_numpy("float64", na_value=np.nan) == 0)
    if blank.any() or zero.any():  # never so in a national count: a blanked file
        at = int((blank | zero).argmax())
        i, said = df.index[at], "blank or suppressed (*)" if blank[at] else "0"
        raise InputError(
            f"England's {df.at[i, 'measure'].replace('_', ' ')} count is {said}: NHS England "
            "never publishes a national count so (hundreds of thousands finish treatment each "
            "year), so the file has been blanked or damaged. Loading it would wipe stored "
            "numbers", file=name, row=int(df.at[i, "_line"]), column=_column(df, i, value_column))
    df, duplicate_rows = _drop_duplicates(df, name)
    areas = df["area_code"].nunique()
    if areas > MAX_AREAS:
        raise InputError(f"the file holds {areas:,} areas, more than the {MAX_AREAS:,} this "
                         "product accepts (a published file holds a few hundred)", file=name)
    ids = [c for c in model.COLUMNS if c in df and c not in model.COUNT_COLUMNS
           and c not in model.PERCENT_COLUMNS
           and c not in ("suppressed", "synthetic", "derived", "source")]
    # One row per period, area and group (in order of first appearance), one column per
    # measure: scattered into arrays by group and measure codes, a fraction of a pivot's cost.
    index = list(model.KEY_COLUMNS)
    group = df.groupby(index, sort=False, dropna=False).ngroup().to_numpy()
    first = np.unique(group, return_index=True)[1]
    measure_codes, measures = pd.factorize(df["measure"], sort=True)
    if (measure_codes < 0).any():  # factorize's -1 would put the value under the last measure
        i = df.index[(measure_codes < 0).argmax()]
        raise InputError("this row was kept but its measure could not be read: the file's "
                         "rows could not be lined up (a stray line end?)",
                         file=name, row=int(df.at[i, "_line"]))
    shape = (len(first), len(measures))
    numbers, line_numbers = np.full(shape, np.nan), np.full(shape, np.nan)
    numbers[group, measure_codes] = df["number"].to_numpy("float64", na_value=np.nan)
    line_numbers[group, measure_codes] = df["_line"].to_numpy("float64")
    firsts = df.iloc[first]
    keys = pd.MultiIndex.from_frame(firsts[index])
    wide = pd.DataFrame({c: firsts[c].to_numpy() for c in ids if c not in index}, index=keys)
    for j, m in enumerate(measures):
        wide[m] = numbers[:, j]
    wide["suppressed"] = np.bincount(group, weights=df["missing"].to_numpy(dtype=float),
                                     minlength=len(first)) > 0
    lines = pd.DataFrame(line_numbers, index=keys, columns=list(measures))
    _check_required(lines, name, kind)
    _check_complete(lines, name)
    for c in (*model.COUNT_COLUMNS, *model.PERCENT_COLUMNS):
        if c not in wide:
            wide[c] = np.nan
    plausible.check(wide, lines, name)
    wide = wide.reset_index()
    wide["derived"] = False
    wide, derived = derive.broad_groups(wide)
    wide, derived_bme = derive.bme(wide)
    wide["source"] = name
    frame = attach_regions(model.conform(wide))
    return ReadResult(frame=frame, source=name, kind=kind, rows_read=rows_read,
                      rows_kept=int(len(df)), skipped=skipped,
                      suppressed_values=int(df["missing"].sum()), duplicate_rows=duplicate_rows,
                      derived_groups=derived + derived_bme, encoding=encoding,
                      unread_levels=tuple(sorted(unread)))


#: The counts a recovery rate is made of: a file without any row for one of them is refused.
REQUIRED = ("finished", "not_at_caseness", "recovered")


def _check_required(lines: pd.DataFrame, name: str, kind: str) -> None:
    """The file carries each count a recovery rate needs somewhere. A measure NHS England
    renumbered (M191 as M9191, say) is otherwise dropped as one the product does not read,
    and the stored quarter would lose every recovery count without a word."""
    lacking = [c for c in REQUIRED if c not in lines]
    if not lacking:
        return
    said = {v: k for k, v in terms.MEASURE_BY_ID.items()}
    what = ", ".join(f"{c.replace('_', ' ')} ({said[c]})" if kind == "quarterly CSV"
                     else c.replace("_", " ") for c in lacking)
    where = ("MEASURE_ID and MEASURE_NAME" if kind == "quarterly CSV" else "the column names")
    raise InputError(
        f"no rows for {what}, which a recovery rate needs; the file has "
        f"{', '.join(c.replace('_', ' ') for c in lines.columns)}. Check {where}: has NHS "
        "England renamed or renumbered the measure?", file=name)


def _check_complete(lines: pd.DataFrame, name: str) -> None:
    """Every period, area and group carries every count the file carries anywhere.

    A row may be suppressed (``*``) but not absent: a file cut at a line break, or a
    hand-edited one, would otherwise replace good stored numbers with nothing.
    """
    counts = [c for c in model.COUNT_COLUMNS if c in lines]
    absent = lines[counts].isna()
    incomplete = absent.any(axis=1).to_numpy()
    if not incomplete.any():
        return
    first_line = lines.min(axis=1).to_numpy()
    i = int(np.argmin(np.where(incomplete, first_line, np.inf)))
    k = lines.index[i]
    has = [c.replace("_", " ") for c in counts if not absent.iloc[i][c]]
    lacks = [c.replace("_", " ") for c in counts if absent.iloc[i][c]]
    raise InputError(
        f"incomplete: {k[3]} {k[5]} ({periods.period_label(k[0], k[1])}) has {', '.join(has)} "
        f"but no row for {', '.join(lacks)}. Every area and group needs each count, as a "
        "number or a suppression mark (*); the file may have been cut short",
        file=name, row=int(first_line[i]),
    )


def attach_regions(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill an ICB's parent region from the reference tables where the file did not give one:
    the 42 ICBs of 2022 as NHS England names them, then the ICBs of April 2026
    (``core.geography``). An ICB no table knows is kept under "Region unknown" (and named in
    a warning: ``ReadResult.warnings``)."""
    missing = (frame["level"] == "ICB") & frame["parent_code"].isna()
    if missing.any():
        codes = frame.loc[missing, "area_code"]
        found = {c: geography.icb_region(c) or (None, geography.REGION_UNKNOWN)
                 for c in set(codes)}
        frame.loc[missing, "parent_code"] = [found[c][0] for c in codes]
        frame.loc[missing, "parent_name"] = [found[c][1] for c in codes]
    return frame


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
