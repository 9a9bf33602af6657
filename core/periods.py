"""Reporting periods: NHS financial-year quarters and years.

NHS England reports by financial year (1 April to 31 March), so a quarter is labelled by the
financial year it falls in (``2024/25 Q3`` is October to December 2024), never by calendar
quarter. Everything that shows or sorts periods goes through here so that labels are the same
on every page, in every export and in every test.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

#: Quarters NHS England never published. Q2 2020/21 fell in the move to version 2.0 of the
#: dataset; a chart must show it as a gap and never join the quarters either side of it.
UNPUBLISHED_QUARTERS: dict[str, str] = {
    "2020/21 Q2": (
        "Never published: NHS Digital did not release Q2 2020/21 (July to September 2020) "
        "because the dataset moved to version 2.0 during that quarter."
    ),
}


def financial_year_start(day: dt.date) -> int:
    """Calendar year in which the financial year containing ``day`` began."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_label(day: dt.date) -> str:
    start = financial_year_start(day)
    return f"{start}/{(start + 1) % 100:02d}"


def quarter_number(day: dt.date) -> int:
    """1 for April–June through 4 for January–March."""
    return ((day.month - 4) % 12) // 3 + 1


def quarter_label(day: dt.date) -> str:
    return f"{financial_year_label(day)} Q{quarter_number(day)}"


def quarter_start(label: str) -> dt.date:
    """First day of the quarter named by ``label`` (``2024/25 Q3`` → 2024-10-01)."""
    try:
        fy, q = label.strip().split(" Q")
        year = int(fy.split("/")[0])
        n = int(q)
    except ValueError as exc:
        raise ValueError(f"not a quarter label like '2024/25 Q3': {label!r}") from exc
    if not 1 <= n <= 4:
        raise ValueError(f"quarter must be 1 to 4: {label!r}")
    month = 4 + 3 * (n - 1)
    return dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def quarter_end(start: dt.date) -> dt.date:
    month = start.month + 3
    year = start.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return dt.date(year, month, 1) - dt.timedelta(days=1)


def is_quarter(start: dt.date, end: dt.date) -> bool:
    return start.day == 1 and start.month in (1, 4, 7, 10) and end == quarter_end(start)


def is_financial_year(start: dt.date, end: dt.date) -> bool:
    return (start.month, start.day) == (4, 1) and end == dt.date(start.year + 1, 3, 31)


def period_type(start: dt.date, end: dt.date) -> str | None:
    """``quarter``, ``year`` or None for any other span (which the product does not show)."""
    if is_quarter(start, end):
        return "quarter"
    if is_financial_year(start, end):
        return "year"
    return None


def period_label(start: dt.date, end: dt.date) -> str:
    kind = period_type(start, end)
    if kind == "quarter":
        return quarter_label(start)
    if kind == "year":
        return financial_year_label(start)
    return f"{start.isoformat()} to {end.isoformat()}"


def quarter_range(first: dt.date, last: dt.date) -> list[str]:
    """Every quarter label from ``first`` to ``last`` inclusive, unpublished ones included.

    Charts use this as their x domain so that a missing quarter is a visible gap rather than
    two neighbouring points silently joined.
    """
    labels = []
    day = dt.date(first.year, first.month - (first.month - 1) % 3, 1)
    while day <= last:
        labels.append(quarter_label(day))
        day = quarter_end(day) + dt.timedelta(days=1)
    return labels


def year_before(label: str) -> str:
    """The same period a year earlier: "2021/22 Q2" → "2020/21 Q2", "2021/22" → "2020/21"."""
    first = int(label[:4]) - 1
    return f"{first}/{(first + 1) % 100:02d}{label[7:]}"


def sort_labels(labels: Iterable[str]) -> list[str]:
    return sorted(set(labels), key=quarter_start)


def parse_date(text: str) -> dt.date:
    """Read a date as NHS files write it: ISO ``2025-10-01`` or ``01/04/2026``."""
    value = text.strip()
    parts = value.split(" ")[0].split("/")
    dmy = len(parts) == 3 and len(parts[2]) == 4 and all(p.isdigit() for p in parts)
    if dmy and int(parts[1]) > 12 >= int(parts[0]):  # 10/31/2025: saved US-style
        raise ValueError(
            f"{value!r} is not a day/month/year date (there is no month {int(parts[1])}): it "
            "looks like month/day/year, as US spreadsheets save it. NHS England's files use "
            "2025-10-01 or 01/10/2025 (day/month/year)")
    try:
        if len(value) >= 10 and value[4] == "-":
            return dt.date.fromisoformat(value[:10])
        if dmy:
            return dt.date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a real date ({exc}); expected a date such as "
                         "2025-10-01 or 01/10/2025 (day/month/year)") from None
    raise ValueError(f"not a date in the form 2025-10-01 or 01/10/2025: {text!r}")


def financial_year_from_name(name: str) -> str | None:
    """``2024-25`` from a file name such as ``psych-ther-ann-2024-25.csv`` or ``..._2425.csv``;
    None when the name holds no year, or two (``...-2023-24-revised-2024-25.csv``: which one
    the file covers is for the maintainer to say; see ``financial_years_in_name``)."""
    years = financial_years_in_name(name)
    return years[0] if len(years) == 1 else None


def financial_years_in_name(name: str) -> list[str]:
    """Every financial year a file name holds, in order, each once."""
    out = []
    for m in re.finditer(r"(20\d\d)[-_ ]?(\d\d)(?!\d)", name):
        first, second = int(m.group(1)), int(m.group(2))
        if (first + 1) % 100 == second:
            out.append(f"{first}-{second:02d}")
    return list(dict.fromkeys(out))


def financial_year_start_date(text: str) -> dt.date:
    """1 April of the financial year written ``2024-25`` or ``2024/25``."""
    m = re.fullmatch(r"(20\d\d)[-/](\d\d)", text.strip())
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise ValueError(f"the financial year must look like 2024-25, not {text!r}")
    return dt.date(int(m.group(1)), 4, 1)
