"""Read the files NHS England publishes into the tidy model (``core.model``).

Three layouts are accepted, recognised by their content rather than their file name:

* the **quarterly CSV** (long: one row per area, breakdown and measure; about a million rows);
* the **quarterly zip** holding three such CSVs, of which only the ICB/sub-ICB one is read: it
  already carries the England and region rows, and the provider files would count England
  twice and are not needed for area figures;
* the **annual CSV** (wide: one column per measure), in both header generations
  (``CountRecovery`` to 2019-20, ``Count_Recovery`` after).

Files are cut into newline-aligned blocks that are parsed with pyarrow and filtered (measure
first, which drops most rows) on a small thread pool, so memory stays bounded whatever the file
size; anything that does not parse is read again with pyarrow's streaming reader for an exact
row number. Any problem raises :class:`core.errors.InputError` naming the file, row and column.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core import model, periods
from core.errors import InputError

#: Largest CSV we will decompress or read (bytes). A real ICB/sub-ICB CSV is a few hundred MB.
MAX_CSV_BYTES = 2 * 1024**3
#: A zip member that claims to expand more than this many times its compressed size is refused.
MAX_COMPRESSION_RATIO = 200
#: Block size of the streaming reader, used when a file must be re-read for an exact error row.
BLOCK_SIZE = 1 << 23
#: Largest file the upload page accepts (also set as server.maxUploadSize in .streamlit/).
MAX_UPLOAD_BYTES = 300 * 1024**2

MEASURE_BY_ID = {
    "M076": "finished",
    "M179": "not_at_caseness",
    "M191": "recovered",
    "M193": "reliable_recovered",
    "M192": "published_recovery",
    "M195": "published_reliable",
}
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
LEVEL_BY_GROUP_TYPE = {
    "england": "England",
    "commissioningregion": "Region",
    "region": "Region",
    "icb": "ICB",
    "stp": "ICB",
    "subicb": "SubICB",
    "subicblocation": "SubICB",
    "ccg": "SubICB",
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

QUARTERLY_COLUMNS = {
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
OPTIONAL_QUARTERLY = {"measure_id"}
QUARTERLY_HEADER_EXAMPLE = (
    '"REPORTING_PERIOD_START","REPORTING_PERIOD_END","ICB","ICBName","SubICB","SubICBName",'
    '"Provider","ProviderName","GroupType","VariableType","VariableA","VariableB","MEASURE_ID",'
    '"MEASURE_NAME","MEASURE_VALUE_SUPPRESSED"'
)
ANNUAL_ID_COLUMNS = {
    "org_type": ("orgtype",),
    "org_code": ("orgcode",),
    "org_name": ("orgname",),
    "variable_type": ("variabletype",),
    "variable_a": ("variablea",),
    "variable_b": ("variableb",),
}
ANNUAL_ORG_TYPES = {
    "england": "England",
    "commissioningregion": "Region",
    "region": "Region",
    "stp": "ICB",
    "icb": "ICB",
    "ccg": "SubICB",
    "subicb": "SubICB",
    "subicblocation": "SubICB",
}


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.strip().lstrip("\ufeff")).lower()


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

    @property
    def periods(self) -> list[str]:
        if self.frame.empty:
            return []
        f = self.frame.drop_duplicates("period").sort_values("period_start")
        return list(f["period"])

    def summary(self) -> list[str]:
        f = self.frame
        lines = [
            f"{self.source}: {self.kind}, read {self.rows_read:,} rows, kept {self.rows_kept:,} "
            f"(the recovery measures for England, regions, ICBs and sub-ICB locations by total, "
            f"BME group and ethnic group).",
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
            lines.append(
                f"Broad ethnic groups summed from detailed groups: {self.derived_groups:,} rows."
            )
        for reason, n in sorted(self.skipped.items()):
            lines.append(f"Rows skipped, {reason}: {n:,}.")
        if self.encoding != "utf-8":
            lines.append(f"Text encoding: {self.encoding} (converted).")
        return lines


# --------------------------------------------------------------------------------------------
# Entry point


Source = str | Path | bytes | BinaryIO


def read_file(
    source: Source,
    name: str | None = None,
    *,
    period: str | None = None,
    today: dt.date | None = None,
) -> ReadResult:
    """Read any accepted file, deciding the layout from its bytes, not its name.

    ``period`` (``2024-25``) names the financial year of an annual CSV when its file name does
    not. ``today`` is for tests: quarters ending after it are refused as being from the future.
    """
    try:
        return _read_any(source, name, period=period, today=today)
    finally:
        # Parse buffers are free by now, but Arrow's allocator keeps the pages unless asked to
        # give them back; a page that loads a file then merges it would otherwise pay twice.
        pa.default_memory_pool().release_unused()


def _read_any(
    source: Source, name: str | None, *, period: str | None, today: dt.date | None
) -> ReadResult:
    opener, name = _opener(source, name)
    with opener() as f:
        head = f.read(65536)
    if not head:
        raise InputError("the file is empty", file=name)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            "this is an Excel workbook (.xls), not a CSV: upload the CSV or zip NHS England "
            "publishes, or save the sheet as CSV first",
            file=name,
        )
    if head.startswith(b"PK"):
        return _read_zip(opener, name, today=today)
    return _read_text(opener, head, name, period=period, today=today)


def _opener(source: Source, name: str | None) -> tuple[Callable[[], BinaryIO], str]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise InputError("no such file", file=str(source))
        return (lambda: open(path, "rb")), name or path.name
    if isinstance(source, bytes):
        data = source
        return (lambda: io.BytesIO(data)), name or "upload"
    # An uploaded file (Streamlit's UploadedFile, BytesIO): already in memory, so take the bytes.
    data = source.read()
    return (lambda: io.BytesIO(data)), name or getattr(source, "name", None) or "upload"


class _Limited(io.RawIOBase):
    """Counts bytes as they are read and stops at a limit, whatever a zip header claimed."""

    def __init__(self, inner: BinaryIO, limit: int, name: str) -> None:
        self._inner, self._limit, self._name, self.count = inner, limit, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._inner.read(n)
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
            raise InputError(
                f"the zip is damaged or incomplete while reading it ({exc}); download it again",
                file=self._name,
            ) from exc
        self.count += len(data)
        if self.count > self._limit:
            raise InputError(
                f"the CSV expands beyond {self._limit // 1024**2:,} MB, far larger than any "
                "published file; refusing it",
                file=self._name,
            )
        return data


# --------------------------------------------------------------------------------------------
# Zip


def _declares_too_much(info: zipfile.ZipInfo) -> bool:
    """A member whose header promises more than any published file (checked before reading)."""
    ratio = info.file_size / info.compress_size if info.compress_size else 0
    return info.file_size > MAX_CSV_BYTES or ratio > MAX_COMPRESSION_RATIO


def _read_zip(opener: Callable[[], BinaryIO], name: str, *, today: dt.date | None) -> ReadResult:
    handle = opener()  # seekable: members are streamed from it, never held in memory whole
    try:
        return _read_zip_members(handle, name, today=today)
    finally:
        handle.close()


def _read_zip_members(handle: BinaryIO, name: str, *, today: dt.date | None) -> ReadResult:
    try:
        zf = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
        raise InputError(
            "the zip file is damaged or incomplete (a download cut short?): " + str(exc), file=name
        ) from exc
    with zf:
        result = _read_icb_member(zf, name, today=today)
    result.kind = "quarterly zip (ICB/sub-ICB CSV)"
    return result


def _read_icb_member(zf: zipfile.ZipFile, name: str, *, today: dt.date | None) -> ReadResult:
    infos = zf.infolist()
    names = [i.filename for i in infos]
    if any(n.startswith("xl/") or n == "[Content_Types].xml" for n in names):
        raise InputError(
            "this is an Excel workbook (.xlsx), not a CSV or the published zip: upload the CSV "
            "or zip NHS England publishes, or save the sheet as CSV first",
            file=name,
        )
    for info in infos:
        parts = info.filename.replace("\\", "/").split("/")
        if info.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            raise InputError(
                f"the zip holds a path that points outside it ({info.filename!r}); refusing it",
                file=name,
            )
    csvs = [i for i in infos if i.filename.lower().endswith(".csv") and not i.is_dir()]
    wanted = [
        i for i in csvs
        if "provider" not in Path(i.filename).name.lower()
        and re.search(r"icb|ccg|stp", Path(i.filename).name.lower())
    ]
    if not wanted:
        raise InputError(
            "the zip has no ICB/sub-ICB CSV (a file named like '..._ICB_subICB_...csv'); it holds: "
            + (", ".join(names) or "nothing"),
            file=name,
        )
    if len(wanted) > 1:
        raise InputError(
            "the zip has more than one ICB/sub-ICB CSV ("
            + ", ".join(i.filename for i in wanted)
            + "); upload them one at a time",
            file=name,
        )
    info = wanted[0]
    member = f"{name} › {info.filename}"
    if _declares_too_much(info):
        raise InputError(
            f"the CSV inside would expand to {info.file_size / 1024**2:,.0f} MB from "
            f"{info.compress_size / 1024**2:,.1f} MB: not a published file (a zip bomb?)",
            file=member,
        )

    def open_member() -> BinaryIO:
        try:
            inner = zf.open(info)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
            raise InputError(f"cannot open the CSV in the zip: {exc}", file=member) from exc
        return io.BufferedReader(_Limited(inner, MAX_CSV_BYTES, member), CHUNK_BYTES)

    with open_member() as f:
        head = f.read(65536)
    if not head:
        raise InputError("the CSV in the zip is empty", file=member)
    return _read_text(open_member, head, member, period=None, today=today, allow_annual=False)


# --------------------------------------------------------------------------------------------
# Text files: sniff the header, then dispatch


def _detect_encoding(head: bytes, name: str) -> str:
    if b"\x00" in head:
        raise InputError(
            "this is not a text CSV file (it contains binary data)", file=name
        )
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the end of the sniffed block
            return "utf-8"
        return "windows-1252"


def _header(head: bytes, encoding: str, name: str) -> list[str]:
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    first = text.splitlines()[0] if text.splitlines() else ""
    try:
        row = next(csv.reader([first]))
    except (csv.Error, StopIteration) as exc:
        raise InputError("the first line is not a CSV header", file=name, row=1) from exc
    return [c.strip() for c in row]


def _resolve(header: list[str], spec: dict, name: str, optional: set, layout: str) -> dict:
    found = {_norm(h): h for h in header}
    out = {}
    for key, accepted in spec.items():
        hit = next((found[a] for a in accepted if a in found), None)
        if hit is None and key not in optional:
            raise InputError(
                f"missing column {accepted[0]!r} (or it was renamed); a {layout} needs it. "
                f"Found columns: {', '.join(header[:20])}",
                file=name,
                row=1,
                column=accepted[0],
            )
        if hit is not None:
            out[key] = hit
    return out


def _read_text(
    opener: Callable[[], BinaryIO],
    head: bytes,
    name: str,
    *,
    period: str | None,
    today: dt.date | None,
    allow_annual: bool = True,
) -> ReadResult:
    encoding = _detect_encoding(head, name)
    header = _header(head, encoding, name)
    normed = {_norm(h) for h in header}
    if {"grouptype", "orgcode1"} <= normed:
        raise InputError(
            "this is a monthly file: it has no ICB rows and no recovery counts by ethnicity. "
            "Upload the quarterly zip (or its ICB/sub-ICB CSV) or an annual CSV instead",
            file=name,
        )
    if {"reportingperiodstart", "grouptype"} <= normed:
        return _read_quarterly(opener, header, encoding, name, today=today)
    if allow_annual and "orgtype" in normed:
        return _read_annual(opener, header, encoding, name, period=period, today=today)
    raise InputError(
        "this is not an NHS Talking Therapies quarterly or annual file: expected a header like "
        f"{QUARTERLY_HEADER_EXAMPLE} but found: {', '.join(header[:12]) or '(nothing)'}",
        file=name,
        row=1,
    )


Select = Callable[[int, pa.RecordBatch], "pa.RecordBatch | None"]


#: Bytes per block in the parallel scan; with a few blocks in flight this bounds memory.
CHUNK_BYTES = 2 << 20


def _scan(
    opener: Callable[[], BinaryIO],
    header: list[str],
    columns: list[str],
    encoding: str,
    name: str,
    select: Select,
    narrow: list[str] | None = None,
) -> tuple[list[pa.RecordBatch], int]:
    """Parse and filter the file in bounded blocks, keeping what ``select`` returns.

    pyarrow's streaming CSV reader is single-threaded, so the file is cut into newline-aligned
    blocks that are parsed *and* filtered on a small thread pool (pyarrow releases the GIL),
    with only a few blocks in flight: memory stays bounded whatever the file size. If any block
    fails to parse (a truncated file, a quoted field holding a line break, bad text), the file
    is read again with the streaming reader, which reports the exact row.

    ``narrow`` names the only columns ``select`` looks at. Each block is then parsed first with
    just those (most of the cost of parsing is converting fields, and a published file keeps
    a few rows in a hundred), and only the lines it keeps are parsed again in full.
    """
    convert = _string_columns(columns)
    try:
        return _scan_parallel(opener, header, convert, encoding, select,
                              _string_columns(narrow) if narrow else None)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return _scan_stream(opener, convert, encoding, name, select)


def _string_columns(columns: list[str]) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        column_types={c: pa.string() for c in columns},
        include_columns=columns,
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )


def _blocks(f: BinaryIO, size: int):
    """Newline-aligned blocks of about ``size`` bytes, read without copying them again."""
    leftover = b""
    while True:
        buf = bytearray(len(leftover) + size)
        buf[: len(leftover)] = leftover
        n = f.readinto(memoryview(buf)[len(leftover):])
        end = len(leftover) + (n or 0)
        if not n:
            if leftover.strip():
                yield pa.py_buffer(bytes(leftover))
            return
        cut = buf.rfind(b"\n", 0, end)
        if cut < 0:
            leftover = bytes(buf[:end])
            continue
        leftover = bytes(buf[cut + 1 : end])
        yield pa.py_buffer(buf)[: cut + 1]


#: Above this share of a block's rows kept, parsing the whole block again beats cutting out
#: its kept lines.
RECUT_SHARE = 0.25


def _scan_parallel(opener, header, convert, encoding, select, narrow=None):
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    read = pacsv.ReadOptions(column_names=header, encoding=encoding, use_threads=False,
                             block_size=4 * CHUNK_BYTES)

    def parse(block, options: pacsv.ConvertOptions) -> pa.RecordBatch | None:
        table = pacsv.read_csv(pa.BufferReader(block), read_options=read,
                               convert_options=options)
        batches = table.combine_chunks().to_batches()
        return batches[0] if batches else None

    def whole(block):
        batch = parse(block, convert)
        return (0, None) if batch is None else (batch.num_rows, select(0, batch))

    def work(block):
        if narrow is None:
            return whole(block)
        first = parse(block, narrow)
        if first is None:
            return 0, None
        kept = select(0, first)
        if kept is None:
            return first.num_rows, None
        at = kept.column("_line").to_numpy()
        ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
        # Cutting out lines is only safe when each row is exactly one line (no line breaks
        # inside quotes, no blank lines) and worth it when few rows are kept.
        if len(ends) != first.num_rows or len(at) > RECUT_SHARE * first.num_rows:
            return whole(block)
        starts = np.concatenate([[0], ends[:-1] + 1])
        view = memoryview(block)
        lines = b"".join(view[starts[i]: ends[i] + 1] for i in at.tolist())
        full = parse(pa.py_buffer(lines), convert)
        if full is None or full.num_rows != len(at):
            return whole(block)
        return first.num_rows, pa.RecordBatch.from_arrays(
            [*full.columns, kept.column("_line")], names=[*full.schema.names, "_line"])

    workers = max(2, min(4, os.cpu_count() or 2))
    pieces, rows = [], 0
    with opener() as f, ThreadPoolExecutor(workers) as pool:
        f.readline()  # the header, already read by the caller
        pending: deque = deque()

        def collect() -> None:
            nonlocal rows
            n, piece = pending.popleft().result()
            if piece is not None:
                lines = pc.add(piece.column("_line"), rows + 2)
                pieces.append(piece.set_column(piece.num_columns - 1, "_line", lines))
            rows += n

        for block in _blocks(f, CHUNK_BYTES):
            pending.append(pool.submit(work, block))
            if len(pending) > 1 * workers:
                collect()
        while pending:
            collect()
    return pieces, rows


def _scan_stream(opener, convert, encoding, name, select):
    read = pacsv.ReadOptions(block_size=BLOCK_SIZE, encoding=encoding)
    pieces, line, rows = [], 2, 0
    with opener() as f:
        try:
            reader = pacsv.open_csv(f, read_options=read, convert_options=convert)
            for batch in reader:
                piece = select(line, batch)
                if piece is not None:
                    pieces.append(piece)
                line += batch.num_rows
                rows += batch.num_rows
        except InputError:
            raise
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            message = str(exc).split("\n")[0]
            if "Expected" in message and "columns" in message:
                message = (
                    "a row has the wrong number of fields (" + message + "); the file may be "
                    "truncated or not a published file"
                )
            elif "UTF8" in message or "decode" in message.lower():
                message = f"text is not valid {encoding} ({message})"
            raise InputError(message, file=name, row=_row_from(message, line)) from exc
    return pieces, rows


def _row_from(message: str, line: int) -> int | None:
    m = re.search(r"[Rr]ow #(\d+)", message)
    return int(m.group(1)) + 1 if m else line


# --------------------------------------------------------------------------------------------
# Quarterly


def _read_quarterly(
    opener: Callable[[], BinaryIO],
    header: list[str],
    encoding: str,
    name: str,
    *,
    today: dt.date | None,
) -> ReadResult:
    cols = _resolve(header, QUARTERLY_COLUMNS, name, OPTIONAL_QUARTERLY, "quarterly file")
    measure_id, measure_name = cols.get("measure_id"), cols["measure_name"]
    upper = lambda a: pc.utf8_upper(pc.utf8_trim_whitespace(a))  # noqa: E731

    def select(first_line: int, batch: pa.RecordBatch) -> pa.RecordBatch | None:
        # The breakdown first: total, BME group and ethnic group are a few rows in a hundred
        # (age, gender, deprivation... are the rest), so everything else is tested on few rows.
        kept = _keep(batch, _matches(batch.column(cols["variable_type"]), _norm_arrow,
                                     BREAKDOWN_BY_VARIABLE_TYPE), first_line)
        if kept is None:
            return None
        mask = _matches(kept.column(cols["group_type"]), _norm_arrow, LEVEL_BY_GROUP_TYPE)
        if measure_id:
            ids = kept.column(measure_id)
            measure = _matches(ids, upper, MEASURE_BY_ID)
            no_id = _matches(ids, upper, ["", "NULL"])
            if pc.any(no_id).as_py():  # only then are names looked at
                by_name = _matches(kept.column(measure_name), _norm_arrow, MEASURE_BY_NAME)
                measure = pc.or_(measure, pc.and_(no_id, by_name))
        else:
            measure = _matches(kept.column(measure_name), _norm_arrow, MEASURE_BY_NAME)
        mask = pc.and_(mask, measure)
        return kept.filter(mask) if pc.any(mask).as_py() else None

    narrow = [c for c in (measure_id, measure_name, cols["group_type"], cols["variable_type"]) if c]
    pieces, rows_read = _scan(opener, header, list(cols.values()), encoding, name, select,
                              narrow=narrow)
    if rows_read == 0:
        raise InputError("the file has a header but no data rows", file=name)
    if not pieces:
        raise InputError(
            "no recovery measures found (M076 finished a course of treatment, M179 not at "
            "caseness, M191 recovery) for England, regions or ICBs: is this the quarterly "
            "Talking Therapies file?",
            file=name,
        )
    # One chunk per column, not one per block: pandas works much faster on contiguous arrays.
    table = pa.Table.from_batches(pieces).combine_chunks()
    del pieces
    # The scan's blocks are freed but still held by the allocator: hand them back before
    # tidying, so the two phases' peaks do not add up.
    pa.default_memory_pool().release_unused()
    df = table.to_pandas()
    del table
    df = df.rename(columns={v: k for k, v in cols.items()})
    if "measure_id" not in df:
        df["measure_id"] = ""
    return _tidy_quarterly(df, cols, name, rows_read, encoding, today=today)


@lru_cache(maxsize=64)
def _value_set(values: tuple[str, ...]) -> pa.Array:
    return pa.array(list(values), pa.string())


def _matches(arr: pa.Array, normalise: Callable[[pa.Array], pa.Array], values) -> pa.Array:
    """Boolean mask: does each row's normalised value fall in ``values``?

    Normalising (case, spaces) runs over the distinct values only: these columns hold a few
    dozen values across a million rows.
    """
    distinct = pc.unique(arr)
    wanted = pc.is_in(normalise(distinct), value_set=_value_set(tuple(values)))
    raw = pc.filter(distinct, pc.fill_null(wanted, False))
    return pc.fill_null(pc.is_in(arr, value_set=raw), False)


def _keep(batch: pa.RecordBatch, mask: pa.Array, first_line: int) -> pa.RecordBatch | None:
    """The rows of ``batch`` where ``mask`` holds, with their line numbers (``_line``)."""
    idx = pc.indices_nonzero(mask)
    if len(idx) == 0:
        return None
    small = batch.take(idx)
    return pa.RecordBatch.from_arrays(
        [small.column(i) for i in range(small.num_columns)]
        + [pc.add(idx.cast(pa.int64()), first_line)],
        names=[*small.schema.names, "_line"],
    )


def _norm_arrow(arr: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(pc.utf8_lower(arr), pattern=r"[\s_\-]", replacement="")


def _clean(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip()


def _per_value(series: pd.Series, fn: Callable[[str], object]) -> pd.Series:
    """Apply ``fn`` once per distinct value: columns repeat a few dozen values many times."""
    codes, distinct = pd.factorize(series.astype(str))
    mapped = np.array([fn(v) for v in distinct] + [fn("nan")], dtype=object)
    # object, not str: inferring pandas' string type costs more than the look-up itself.
    return pd.Series(mapped[codes], index=series.index, dtype=object)


def _lookup(series: pd.Series, table: dict) -> pd.Series:
    """Normalise (case, spaces, underscores) and look up, per distinct value."""
    return _per_value(series, lambda v: table.get(_norm(v)))


def _canonical_group(series: pd.Series) -> pd.Series:
    return _per_value(series, lambda v: CANONICAL_GROUPS.get(v.strip().lower(), v.strip()))


def _is_placeholder(series: pd.Series) -> pd.Series:
    return _per_value(series, lambda v: v.lower() in PLACEHOLDER_CODES).astype(bool)


def _tidy_quarterly(
    df: pd.DataFrame,
    cols: dict,
    name: str,
    rows_read: int,
    encoding: str,
    *,
    today: dt.date | None,
) -> ReadResult:
    skipped: Counter = Counter()
    by_id = _per_value(df["measure_id"], lambda v: MEASURE_BY_ID.get(v.strip().upper()))
    by_name = _lookup(df["measure_name"], MEASURE_BY_NAME)
    df["measure"] = by_id.where(by_id.notna(), by_name)
    df["level"] = _lookup(df["group_type"], LEVEL_BY_GROUP_TYPE)

    # Object arrays once, then numpy choices: each Series handed to np.select is converted
    # again, and that conversion was most of the cost.
    icb, icb_name, sub, sub_name = (_clean(df[c]).to_numpy(object)
                                    for c in ("icb", "icb_name", "sub", "sub_name"))
    level = df["level"].to_numpy(object)
    is_england, is_sub = level == "England", level == "SubICB"
    is_icb = (level == "Region") | (level == "ICB")
    as_text = lambda values: pd.Series(values, index=df.index, dtype=object)  # noqa: E731
    df["area_code"] = as_text(np.where(is_england, "ENG",
                                       np.where(is_icb, icb, np.where(is_sub, sub, ""))))
    df["area_name"] = as_text(np.where(is_england, "England",
                                       np.where(is_icb, icb_name, np.where(is_sub, sub_name, ""))))
    df["parent_code"] = as_text(np.where(is_sub, icb, None))
    df["parent_name"] = as_text(np.where(is_sub, icb_name, None))
    level = df["level"]
    unknown = (level != "England") & _is_placeholder(pd.Series(df["area_code"], index=df.index))
    if unknown.any():
        skipped["area code unknown or a placeholder (InvalidRegionCode, Unknown, ...)"] += int(
            unknown.sum()
        )
        df = df[~unknown]
    df = _add_groups(df, "variable_type", "variable_a", "variable_b")
    df = _add_periods(df, name, cols, today=today)
    return _finish(df, name, "quarterly CSV", rows_read, encoding, skipped, cols["value"])


def _add_groups(df: pd.DataFrame, vt: str, va: str, vb: str) -> pd.DataFrame:
    breakdown = _lookup(df[vt], BREAKDOWN_BY_VARIABLE_TYPE).to_numpy(object)
    a = _canonical_group(df[va]).to_numpy(object)
    b = _canonical_group(df[vb]).to_numpy(object)
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


def _add_periods(
    df: pd.DataFrame, name: str, cols: dict, *, today: dt.date | None
) -> pd.DataFrame:
    today = today or dt.date.today()
    # A file holds one or a few periods: factorize each date column, then the pairs of codes.
    start_codes, start_values = pd.factorize(df["start"])
    end_codes, end_values = pd.factorize(df["end"])
    codes, pair_codes = pd.factorize(start_codes * (len(end_values) + 1) + end_codes)
    pairs = [(start_values[c // (len(end_values) + 1)], end_values[c % (len(end_values) + 1)])
             for c in pair_codes]
    first_line = pd.Series(df["_line"].to_numpy()).groupby(codes).min()
    starts, ends, labels, kinds = [], [], [], []
    for k, (s, e) in enumerate(pairs):
        line = int(first_line[k])
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
            raise InputError(
                f"the period {start} to {end} is not a financial quarter or year",
                file=name, row=line, column=cols["start"],
            )
        if end > today:
            raise InputError(
                f"the period {periods.period_label(start, end)} ends on {end}, after today "
                f"({today}): a quarter from the future cannot have been published",
                file=name, row=line, column=cols["end"],
            )
        starts.append(start)
        ends.append(end)
        labels.append(periods.period_label(start, end))
        kinds.append(kind)
    take = lambda values: np.asarray(values, dtype=object)[codes]  # noqa: E731
    return df.assign(period_start=take(starts), period_end=take(ends), period=take(labels),
                     period_type=take(kinds))


def _finish(
    df: pd.DataFrame,
    name: str,
    kind: str,
    rows_read: int,
    encoding: str,
    skipped: Counter,
    value_column: str,
) -> ReadResult:
    """Parse values, reject contradictions, pivot to one row per period, area and group."""
    raw = _clean(df["value"])
    missing = raw.str.lower().isin(MISSING_MARKS)
    number = _numbers(raw.str.replace(",", "", regex=False), missing)
    bad = ~missing & number.isna()
    if bad.any():
        i = bad.idxmax()
        raise InputError(
            f"expected a number or a suppression mark (*) for {df.at[i, 'measure']}, "
            f"found {raw[i][:40]!r}",
            file=name,
            row=int(df.at[i, "_line"]),
            column=df.at[i, "value_column"] if "value_column" in df else value_column,
        )
    is_count = df["measure"].isin(model.COUNT_COLUMNS)
    for problem, cond in (
        ("a count cannot be negative", is_count & (number < 0)),
        ("a count must be a whole number", is_count & number.notna() & (number % 1 != 0)),
        ("a percentage must be between 0 and 100", ~is_count & ((number < 0) | (number > 100))),
    ):
        if cond.any():
            i = cond.idxmax()
            raise InputError(
                f"{problem}; found {raw[i]!r} for {df.at[i, 'measure']}",
                file=name,
                row=int(df.at[i, "_line"]),
                column=df.at[i, "value_column"] if "value_column" in df else value_column,
            )
    df = df.assign(number=number, missing=missing & is_count)
    key = [*model.KEY_COLUMNS, "measure"]
    dup = df.duplicated(key, keep=False)
    duplicate_rows = 0
    if dup.any():
        d = df[dup]
        distinct = d.groupby(key, dropna=False)["number"].nunique(dropna=False)
        if (distinct > 1).any():
            k = distinct[distinct > 1].index[0]
            rows = d.set_index(key).loc[[k], "_line"].tolist()
            raise InputError(
                f"two different values for the same thing: {k[5]} ({k[2]} {k[3]}, {k[4]}, "
                f"{k[6]}) appears on rows {', '.join(str(int(r)) for r in rows[:5])} with "
                "different values",
                file=name,
                row=int(rows[0]),
            )
        duplicate_rows = int(df.duplicated(key).sum())
        df = df.drop_duplicates(key)
    suppressed_values = int(df["missing"].sum())

    ids = [c for c in model.COLUMNS if c in df and c not in model.COUNT_COLUMNS
           and c not in model.PERCENT_COLUMNS and c not in ("suppressed", "synthetic", "source")]
    # One row per period, area and group (in order of first appearance), one column per
    # measure: scattered into arrays by group and measure codes, which costs a fraction of
    # pandas' pivot and join.
    index = list(model.KEY_COLUMNS)
    group = df.groupby(index, sort=False, dropna=False).ngroup().to_numpy()
    first = np.unique(group, return_index=True)[1]
    measure_codes, measures = pd.factorize(df["measure"], sort=True)
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
    for c in (*model.COUNT_COLUMNS, *model.PERCENT_COLUMNS):
        if c not in wide:
            wide[c] = np.nan
    _check_consistency(wide, lines, name)
    wide = wide.reset_index()
    wide, derived = _derive_broad_groups(wide)
    wide["source"] = name
    frame = attach_regions(model.conform(wide))
    return ReadResult(
        frame=frame,
        source=name,
        kind=kind,
        rows_read=rows_read,
        rows_kept=int(len(df)),
        skipped=skipped,
        suppressed_values=suppressed_values,
        duplicate_rows=duplicate_rows,
        derived_groups=derived,
        encoding=encoding,
    )


def _numbers(text: pd.Series, missing: pd.Series) -> pd.Series:
    """Numbers from text, NaN where missing or not a number.

    Arrow parses a valid column several times faster than ``pd.to_numeric``; any text it
    cannot read sends the column the slow way, which marks it NaN (the caller then names it).
    """
    try:
        arrow = pc.if_else(pa.array(missing.to_numpy(dtype=bool)), pa.scalar(None, pa.string()),
                           pa.array(text, pa.string()))
        values = pc.cast(arrow, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pd.to_numeric(text, errors="coerce")
    return pd.Series(values, index=text.index)


def _check_consistency(wide: pd.DataFrame, lines: pd.DataFrame, name: str) -> None:
    # Below England level each count is rounded to the nearest 5, so a difference of counts can
    # be off by up to 10 without anything being wrong.
    tol = np.where(wide.index.get_level_values("level") == "England", 0, 10)
    fin, nac = wide["finished"], wide["not_at_caseness"]
    rec, rel = wide["recovered"], wide["reliable_recovered"]
    checks = (
        ("not_at_caseness", nac > fin + tol, "not at caseness ({a:,.0f}) is more than finished "
         "a course of treatment ({b:,.0f})", nac, fin),
        ("recovered", rec > fin - nac + tol, "recovered ({a:,.0f}) is more than finished minus "
         "not at caseness ({b:,.0f}), the most who could recover", rec, fin - nac),
        ("reliable_recovered", rel > rec + tol, "reliable recovery ({a:,.0f}) is more than "
         "recovery ({b:,.0f})", rel, rec),
    )
    for measure, cond, text, a, b in checks:
        cond = cond.fillna(False)
        if cond.any():
            i = cond.to_numpy().nonzero()[0][0]
            k = wide.index[i]
            line = lines[measure].iloc[i] if measure in lines else None
            raise InputError(
                text.format(a=a.iloc[i], b=b.iloc[i]) + f" for {k[2]} {k[3]}, {k[5]}",
                file=name,
                row=None if pd.isna(line) else int(line),
            )


def _derive_broad_groups(wide: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Sum detailed ethnic groups into their broad group where a file gives no broad row.

    Published quarterly files may carry only the detailed groups; users still want the broad
    ones. Counts are summed (never rates averaged); a part that was suppressed makes the sum a
    slight undercount, so the row is flagged ``suppressed``.
    """
    detailed = wide[wide["breakdown"] == "Ethnic Group (detailed)"]
    if detailed.empty:
        return wide, 0
    by = ["period_start", "period_end", "level", "area_code", "group_parent"]
    have = wide[wide["breakdown"] == "Ethnic Group"].set_index(by).index
    todo = detailed[~detailed.set_index(by).index.isin(have)]
    if todo.empty:
        return wide, 0
    firsts = todo.groupby(by, sort=False).first()
    sums = todo.groupby(by, sort=False)[list(model.COUNT_COLUMNS)].sum(min_count=1)
    parts_missing = (
        todo[list(model.COUNT_COLUMNS[:3])].isna().any(axis=1) | todo["suppressed"]
    ).groupby([todo[c] for c in by], sort=False).any()
    broad = firsts.drop(columns=list(model.COUNT_COLUMNS)).join(sums)
    broad["suppressed"] = parts_missing
    broad["published_recovery"] = np.nan
    broad["published_reliable"] = np.nan
    broad = broad.reset_index()
    broad["breakdown"] = "Ethnic Group"
    broad["group"] = broad["group_parent"]
    return pd.concat([wide, broad], ignore_index=True), len(broad)


# --------------------------------------------------------------------------------------------
# Annual


ANNUAL_MEASURES = {
    "countfinishedcoursetreatment": "finished",
    "countnotatcaseness": "not_at_caseness",
    "countrecovery": "recovered",
    "countreliablerecovery": "reliable_recovered",
    "percentagerecovery": "published_recovery",
    "percentagereliablerecovery": "published_reliable",
}


def financial_year_from_name(name: str) -> str | None:
    """``2024-25`` from a file name such as ``psych-ther-ann-2024-25.csv`` or ``..._2425.csv``."""
    for m in re.finditer(r"(20\d\d)[-_ ]?(\d\d)(?!\d)", name):
        first, second = int(m.group(1)), int(m.group(2))
        if (first + 1) % 100 == second:
            return f"{first}-{second:02d}"
    return None


def _read_annual(
    opener: Callable[[], BinaryIO],
    header: list[str],
    encoding: str,
    name: str,
    *,
    period: str | None,
    today: dt.date | None,
) -> ReadResult:
    cols = _resolve(header, ANNUAL_ID_COLUMNS, name, set(), "annual file")
    measure_cols = {}
    for h in header:
        m = ANNUAL_MEASURES.get(_norm(h))
        if m:
            measure_cols[m] = h
    for needed, column in (("finished", "Count_FinishedCourseTreatment"),
                           ("not_at_caseness", "Count_NotAtCaseness"),
                           ("recovered", "Count_Recovery")):
        if needed not in measure_cols:
            raise InputError(
                f"missing the {needed.replace('_', ' ')} column ({column}, or "
                f"{column.replace('_', '')} before 2020-21): an annual file must carry the "
                "recovery counts",
                file=name,
                row=1,
                column=column,
            )
    year = period or financial_year_from_name(name)
    if year is None:
        raise InputError(
            "cannot tell which financial year this annual file covers: name the file with its "
            "year (for example '..._2024-25.csv') or give the year (--period 2024-25)",
            file=name,
        )
    m = re.fullmatch(r"(20\d\d)[-/](\d\d)", year.strip())
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise InputError(f"the financial year must look like 2024-25, not {year!r}", file=name)
    start = dt.date(int(m.group(1)), 4, 1)
    end = dt.date(start.year + 1, 3, 31)
    if end > (today or dt.date.today()):
        raise InputError(
            f"the financial year {year} has not ended yet: it cannot have been published",
            file=name,
        )
    columns = list(cols.values()) + list(measure_cols.values())

    def select(first_line: int, batch: pa.RecordBatch) -> pa.RecordBatch | None:
        mask = pc.and_(
            _matches(batch.column(cols["org_type"]), _norm_arrow, ANNUAL_ORG_TYPES),
            _matches(batch.column(cols["variable_type"]), _norm_arrow,
                        BREAKDOWN_BY_VARIABLE_TYPE),
        )
        return _keep(batch, mask, first_line)

    pieces, rows_read = _scan(opener, header, columns, encoding, name, select)
    if rows_read == 0:
        raise InputError("the file has a header but no data rows", file=name)
    if not pieces:
        raise InputError(
            "no England, region, ICB or sub-ICB rows by total, BME group or ethnic group found",
            file=name,
        )
    wide = pa.Table.from_batches(pieces).to_pandas()
    wide = wide.rename(columns={v: k for k, v in cols.items()})
    long = wide.melt(
        id_vars=[*cols, "_line"],
        value_vars=list(measure_cols.values()),
        var_name="value_column",
        value_name="value",
    )
    long["measure"] = _lookup(long["value_column"], ANNUAL_MEASURES)
    long["level"] = _lookup(long["org_type"], ANNUAL_ORG_TYPES)
    code, org_name = _clean(long["org_code"]), _clean(long["org_name"])
    england = long["level"] == "England"
    long["area_code"] = np.where(england, "ENG", code)
    long["area_name"] = np.where(england, "England", org_name)
    long["parent_code"] = None
    long["parent_name"] = None
    skipped: Counter = Counter()
    unknown = ~england & _is_placeholder(pd.Series(long["area_code"], index=long.index))
    if unknown.any():
        skipped["area code unknown or a placeholder (UNKNOWN, ...)"] += int(
            unknown.sum() // max(len(measure_cols), 1)
        )
        long = long[~unknown]
    long = _add_groups(long, "variable_type", "variable_a", "variable_b")
    long = long.assign(
        period_start=start, period_end=end, period=periods.financial_year_label(start),
        period_type="year",
    )
    return _finish(long, name, "annual CSV", rows_read, encoding, skipped, "")


def attach_regions(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill an ICB's parent region from the reference table where the file did not give one."""
    ref = model.icb_regions().set_index("icb_code")
    is_icb = frame["level"] == "ICB"
    missing = is_icb & frame["parent_code"].isna()
    if missing.any():
        codes = frame.loc[missing, "area_code"]
        frame.loc[missing, "parent_code"] = codes.map(ref["region_code"])
        frame.loc[missing, "parent_name"] = codes.map(ref["region_name"])
    return frame
