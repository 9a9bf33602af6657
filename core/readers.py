"""Read the files NHS England publishes into the tidy model (``core.model``).

Three layouts are accepted, recognised by their content rather than their file name:

* the **quarterly CSV** (``core.quarterly``);
* the **quarterly zip** holding three such CSVs, of which only the ICB/sub-ICB one is read
  (``core.sources`` chooses it): it already carries the England and region rows, and the
  provider files would count England twice;
* the **annual CSV** (``core.annual``), in both header generations.

Any problem raises :class:`core.errors.InputError` naming the file, row and column.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from core import annual, quarterly, scan, sources
from core.errors import InputError
from core.limits import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB
from core.periods import financial_year_from_name
from core.sources import Source
from core.terms import MEASURE_BY_ID, MEASURE_BY_NAME, norm
from core.validate import ReadResult, attach_regions

__all__ = [
    "MAX_UPLOAD_BYTES", "MAX_UPLOAD_MB", "MEASURE_BY_ID", "MEASURE_BY_NAME", "ReadResult",
    "attach_regions", "financial_year_from_name", "read_file",
]


def read_file(
    source: Source,
    name: str | None = None,
    *,
    period: str | None = None,
    today: dt.date | None = None,
) -> ReadResult:
    """Read any accepted file, deciding the layout from its bytes, not its name.

    ``period`` (``2024-25``) names the financial year of an annual CSV when its file name does
    not. ``today`` is for tests: periods ending after it are refused as being from the future.
    """
    try:
        opener, name = sources.open_source(source, name)
        head = sources.read_head(opener, name)
        if not head:
            raise InputError("the file is empty", file=name)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise InputError(
                "this is an Excel workbook (.xls), not a CSV: upload the CSV or zip NHS England "
                "publishes, or save the sheet as CSV first",
                file=name,
            )
        if head.startswith(b"PK"):
            with opener() as handle:  # seekable: members are streamed, never held whole
                with sources.open_zip(handle, name) as zf:
                    member_opener, member = sources.icb_member(zf, name)
                    result = _read_text(member_opener, member, period=period, today=today)
            result.kind = ("annual zip (ICB CSV)" if result.kind.startswith("annual")
                           else "quarterly zip (ICB/sub-ICB CSV)")
            return result
        return _read_text(opener, name, period=period, today=today)
    finally:
        # Parse buffers are free by now, but Arrow's allocator keeps the pages unless asked to
        # give them back; a page that loads a file then merges it would otherwise pay twice.
        pa.default_memory_pool().release_unused()


#: Files that begin like these are not CSV text, and say so before any row is read.
_NOT_CSV = [
    *((bom, "the file is saved as UTF-16 (Excel's 'Unicode Text'): save it as 'CSV UTF-8 "
       "(Comma delimited)' and upload that") for bom in (b"\xff\xfe", b"\xfe\xff")),
    (b"\x1f\x8b", "this is a gzip-compressed file, not a CSV: uncompress it first, or upload "
     "the CSV or zip NHS England publishes"),
    *((sig, "this is an image, not a CSV: upload the CSV or zip NHS England publishes")
      for sig in (b"\x89PNG", b"\xff\xd8\xff", b"GIF8")),
    (b"%PDF", "this is a PDF document, not a CSV: upload the CSV or zip NHS England publishes"),
]


def _read_text(opener: sources.Opener, name: str, *, period: str | None,
               today: dt.date | None) -> ReadResult:
    head = sources.read_head(opener, name)
    if not head:
        raise InputError("the CSV is empty", file=name)
    for start, what in _NOT_CSV:
        if head.startswith(start):
            raise InputError(what, file=name, row=1)
    nul = head.find(b"\x00")
    if nul >= 0:
        raise InputError("this is not a text CSV file (it contains binary data: a NUL byte)",
                         file=name, row=head.count(b"\n", 0, nul) + 1)
    header = scan.header(head, name)
    normed = {norm(h) for h in header}
    if {"grouptype", "orgcode1"} <= normed:
        raise InputError(
            "this is a monthly file: it has no ICB rows and no recovery counts by ethnicity. "
            "Upload the quarterly zip (or its ICB/sub-ICB CSV) or an annual CSV instead",
            file=name,
        )
    if {"reportingperiodstart", "grouptype"} <= normed:
        return quarterly.read(opener, header, name, today=today)
    if "orgtype" in normed:
        return annual.read(opener, header, name, period=period, today=today)
    first = head.split(b"\n", 1)[0]
    if first.count(b";") >= 5 and b"," not in first:
        raise InputError("the file is separated by semicolons (;), as spreadsheets set to some "
                         "languages save CSV: save it with commas as the separator, or upload "
                         "the file NHS England publishes", file=name, row=1)
    raise InputError(
        "this is not an NHS Talking Therapies quarterly or annual file: expected a header like "
        f"{quarterly.HEADER_EXAMPLE} but found: {', '.join(header[:12]) or '(nothing)'}",
        file=name,
        row=1,
    )
