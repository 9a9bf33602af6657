"""Reading a CSV's rows in bounded memory.

The text is read in newline-aligned blocks: each block is checked (NUL bytes, over-long lines,
text encoding), parsed by pyarrow and filtered at once, so memory stays bounded whatever the
file's size and every kept row keeps its line number as a spreadsheet would show it (header =
line 1).
"""

from __future__ import annotations

import csv
import io
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.errors import InputError
from core.limits import BLOCK_BYTES, MAX_KEPT_ROWS, MAX_LINE_BYTES, READ_BYTES
from core.sources import Opener, read_chunk

#: Filters one parsed block: gets the block's rows, returns the kept ones with ``_line`` set to
#: their index in the block (or None when nothing is kept).
Select = Callable[[pa.RecordBatch], "pa.RecordBatch | None"]


class NotUtf8(Exception):
    """Raised inside the scan when the file turns out not to be UTF-8 (it is read again)."""


def header(head: bytes, name: str) -> list[str]:
    """The column names on the first line (decoded leniently: they are checked by name)."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    try:
        row = next(csv.reader([lines[0] if lines else ""]))
    except (csv.Error, StopIteration) as exc:
        raise InputError("the first line is not a CSV header", file=name, row=1) from exc
    return [c.strip() for c in row]


def scan(
    opener: Opener, columns: list[str], names: list[str], name: str, select: Select,
    narrow: list[str] | None = None,
) -> tuple[list[pa.RecordBatch], int, str]:
    """Kept rows (each with its file line in ``_line``), rows read, and the text encoding.

    ``narrow``: the few columns ``select`` reads. Each block is then parsed on those first (a
    published quarter keeps a few rows in a hundred), then on every column of its kept lines.

    The text is UTF-8 unless a byte says otherwise; then the whole file is read again as
    Windows-1252 (what Excel writes), provided what came before was plain ASCII. A file that
    mixes the two, or has bytes that neither encoding allows, is refused at that row.
    """
    try:
        return (*_scan(opener, columns, names, name, select, "utf-8", narrow), "utf-8")
    except NotUtf8:
        return (*_scan(opener, columns, names, name, select, "windows-1252", narrow),
                "windows-1252")


#: Above this share of a block's rows kept, parsing the kept lines again saves nothing.
RECUT_SHARE = 0.25
#: Blocks parsed at once (pyarrow releases the GIL): the next block is read meanwhile.
WORKERS = max(2, min(4, os.cpu_count() or 2))


def _parser(names: list[str], columns: list[str]) -> Callable[[bytes], pa.RecordBatch | None]:
    # A block is one chunk, parsed on one thread: blocks run side by side instead.
    read = pacsv.ReadOptions(column_names=names, use_threads=False, block_size=2 * BLOCK_BYTES)
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(columns, pa.string()),
                                   include_columns=columns, strings_can_be_null=False,
                                   quoted_strings_can_be_null=False)

    def parse(block: bytes) -> pa.RecordBatch | None:
        t = pacsv.read_csv(pa.BufferReader(block), read_options=read, convert_options=convert)
        return t.combine_chunks().to_batches()[0] if t.num_rows else None
    return parse


def _kept_lines(block: bytes, at: np.ndarray) -> bytes:
    """The lines of a block (one row a line) at the given row positions."""
    ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
    starts = np.concatenate([[0], ends[:-1] + 1])
    with memoryview(block) as view:
        return b"".join(view[starts[i]: ends[i] + 1] for i in at.tolist())


def _select_block(block: bytes, n_lines: int, parse: Callable, first: Callable | None,
                  select: Select) -> tuple[int, pa.RecordBatch | None, bool]:
    """Rows in the block, its kept rows with their position in the block in ``_line``, and
    whether each row is one line (no blank lines, no line breaks inside quotes, no CR alone)."""
    few = first(block) if first is not None else None
    kept = select(few) if few is not None else None
    if few is not None and kept is None:
        return few.num_rows, None, False
    # Cutting out lines is only safe where each row is one line, and only worth it when few
    # rows are kept.
    if kept is not None and n_lines == few.num_rows >= len(kept) / RECUT_SHARE \
            and not _bare_cr(block):
        at = kept.column("_line")
        full = parse(_kept_lines(block, at.to_numpy()))
        if full is not None and full.num_rows == len(at):
            return few.num_rows, pa.RecordBatch.from_arrays(
                [*full.columns, at], names=[*full.schema.names, "_line"]), True
    batch = parse(block)
    if batch is None:
        return 0, None, False
    return batch.num_rows, select(batch), n_lines == batch.num_rows and not _bare_cr(block)


def _scan(opener, columns, names, name, select, encoding, narrow):
    parse = _parser(names, columns)
    first = _parser(names, narrow) if narrow and len(narrow) < len(columns) else None
    pieces, pending, seen_text = [], deque(), False
    rows = kept = 0

    def collect() -> None:  # in file order, so the first bad row is the one reported
        nonlocal rows, kept
        future, block, first_line, n_lines = pending.popleft()
        try:
            n, piece, one_a_line = future.result()
        except pa.ArrowInvalid as exc:
            raise _parse_error(block, first_line, len(names), name, exc) from exc
        rows += n
        if piece is None:
            return
        at = piece.column("_line")
        if one_a_line:  # the usual case
            lines = pc.add(at, first_line)
        else:  # blank lines or line breaks inside quotes
            lines = pc.take(pa.array(_row_lines(block, first_line)), at)
        pieces.append(piece.set_column(piece.num_columns - 1, "_line", lines))
        kept += piece.num_rows
        if kept > MAX_KEPT_ROWS:
            raise InputError(
                f"the file keeps more than {MAX_KEPT_ROWS:,} rows of recovery measures "
                "(the largest published quarter keeps about 28,000): not a published "
                "file; refusing it before it fills the memory",
                file=name, row=int(lines[-1].as_py()),
            )

    with opener() as f, ThreadPoolExecutor(WORKERS) as pool:
        for block, first_line, n_lines in _blocks(f, name):
            # Decoded here, in order: whether a byte is an error depends on the blocks before.
            block, seen_text = _decode(block, first_line, encoding, seen_text, name)
            pending.append((pool.submit(_select_block, block, n_lines, parse, first, select),
                            block, first_line, n_lines))
            if len(pending) > WORKERS:
                collect()
        while pending:
            collect()
    return pieces, rows


def _bare_cr(block: bytes) -> bool:
    """Whether a CR stands alone (not before a LF) in the block. The parser ends a row there
    but ``_newlines`` does not count a line, so with a blank line elsewhere in the block rows
    and lines agree in number by chance and the wrong lines would be taken for rows."""
    if b"\r" not in block:
        return False
    codes = np.frombuffer(block, dtype=np.uint8)
    at = np.flatnonzero(codes[:-1] == 13)
    return bool(codes[-1] == 13 or (codes[at + 1] != 10).any())


def _newlines(block: bytes) -> int:
    # numpy counts bytes several times faster than bytes.count.
    return int(np.count_nonzero(np.frombuffer(block, dtype=np.uint8) == 10))


def _blocks(f: BinaryIO, name: str) -> Iterator[tuple[bytes, int, int]]:
    """Newline-aligned blocks after the header, each with the file line of its first line and
    its number of lines.

    Lines are measured as they arrive, so a line longer than MAX_LINE_BYTES is refused after
    reading at most that much of it. A file whose lines end in CR alone (old Mac Excel) has its
    CRs read as line ends.
    """
    pending, line, since = bytearray(), 1, 0
    header_done, cr_only = False, None
    while True:
        chunk = read_chunk(f, READ_BYTES, name)
        if cr_only is None and chunk:
            cr_only = b"\n" not in chunk[:MAX_LINE_BYTES] and b"\r" in chunk
        if cr_only:
            chunk = chunk.replace(b"\r", b"\n")
        first = chunk.find(b"\n")
        if (since + (len(chunk) if first < 0 else first)) > MAX_LINE_BYTES:
            raise InputError(
                f"a line is longer than {MAX_LINE_BYTES // 1024**2} MB (published lines are a few "
                "hundred bytes): not a published CSV, or its line ends are damaged",
                file=name, row=line + pending.count(b"\n"),
            )
        since = since + len(chunk) if first < 0 else len(chunk) - chunk.rfind(b"\n") - 1
        pending += chunk
        if not header_done:
            end = pending.find(b"\n")
            if end < 0 and chunk:
                continue
            del pending[: (end + 1 if end >= 0 else len(pending))]
            header_done, line = True, 2
        if not chunk and pending and not pending.endswith(b"\n"):
            _check_last_line(pending, line, name)
        if len(pending) >= BLOCK_BYTES or (not chunk and pending):
            cut = _row_end(pending, pending.rfind(b"\n") + 1) if chunk else len(pending)
            if not cut:  # no row ends in what is read so far: a value with line breaks
                if len(pending) > MAX_LINE_BYTES:
                    raise InputError(
                        f"a quoted value runs on for more than {MAX_LINE_BYTES // 1024**2} MB "
                        "(a quote opened and never closed): not a published CSV",
                        file=name, row=line)
                continue
            with memoryview(pending) as view:
                block = bytes(view[:cut])
            del pending[:cut]
            if not block.endswith(b"\n"):
                block += b"\n"
            n = _newlines(block)
            if n > 1 or block.strip():
                yield block, line, n
            line += n
        if not chunk:
            return


def _row_end(pending: bytearray, cut: int) -> int:
    """``cut`` (just after a line end) if no quoted value is open there, else the end of the
    last line before it where none is (0 if there is none): a block cut inside a value with
    a line break in it would read as two broken rows. Quotes pair up in CSV (an escaped quote
    is two), so a value is open where an odd number of quotes came before."""
    codes = np.frombuffer(pending, dtype=np.uint8, count=cut)
    quotes = codes == 34
    if not np.count_nonzero(quotes) % 2:
        return cut
    ends = np.flatnonzero(codes == 10)
    closed = ends[np.cumsum(quotes)[ends] % 2 == 0]
    return int(closed[-1]) + 1 if len(closed) else 0


def _check_last_line(pending: bytearray, line: int, name: str) -> None:
    """Refuses a file that ends inside a quoted value: the parser would close the quote itself
    and read what is left of the value (a count of 15 cut to 1) as if it were whole."""
    last = pending[pending.rfind(b"\n") + 1:]
    if last.count(b'"') % 2:
        raise InputError(
            "the file ends inside a quoted value (the last row opens a quote and never closes "
            "it): the download was cut short. Download the file again",
            file=name, row=line + pending.count(b"\n"))


def _decode(block: bytes, first_line: int, encoding: str, seen_text: bool,
            name: str) -> tuple[bytes, bool]:
    """The block as UTF-8 bytes for pyarrow, after checking for NUL bytes and bad text."""
    nul = block.find(b"\x00")
    if nul >= 0:
        raise InputError(
            "this row holds a NUL byte (binary data): not a text CSV, or the file is damaged",
            file=name, row=first_line + block.count(b"\n", 0, nul),
        )
    if block.isascii():
        return block, seen_text
    if encoding == "utf-8":
        try:
            block.decode("utf-8")
            return block, True
        except UnicodeDecodeError as exc:
            row = first_line + block.count(b"\n", 0, exc.start)
            if seen_text or not block[: exc.start].isascii():
                raise InputError(
                    f"the text mixes encodings: earlier rows are UTF-8 but byte "
                    f"0x{block[exc.start]:02x} here is not; save the file again as UTF-8",
                    file=name, row=row,
                ) from exc
            raise NotUtf8 from exc
    try:
        return block.decode("windows-1252").encode("utf-8"), seen_text
    except UnicodeDecodeError as exc:
        raise InputError(
            f"the text is neither UTF-8 nor Windows-1252 (byte 0x{block[exc.start]:02x} means "
            "nothing in either); save the file again as UTF-8",
            file=name, row=first_line + block.count(b"\n", 0, exc.start),
        ) from exc


def _records(block: bytes) -> Iterator[tuple[int, list[str]]]:
    """(line offset in the block, fields) of each non-blank record, as Python's csv reads."""
    reader = csv.reader(io.StringIO(block.decode("utf-8", errors="replace"), newline=""))
    start = 0
    for fields in reader:
        if fields:
            yield start, fields
        start = reader.line_num


def _row_lines(block: bytes, first_line: int) -> list[int]:
    return [first_line + offset for offset, _ in _records(block)]


def _parse_error(block: bytes, first_line: int, width: int, name: str,
                 exc: Exception) -> InputError:
    for offset, fields in _records(block):
        if len(fields) != width:
            return InputError(
                f"wrong number of fields: expected {width}, found {len(fields)} (the file may "
                "be cut short, or this is not a published file)",
                file=name, row=first_line + offset,
            )
    return InputError(f"the CSV cannot be parsed ({str(exc).splitlines()[0]})", file=name,
                      row=first_line)
