"""Reading bytes: encodings, line numbers, hostile files and limits (core.sources, core.scan)."""

import datetime as dt
import io
import os
import time
import tomllib
import zipfile

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import readers, scan
from core.errors import InputError
from tests.conftest import ROOT, area_rows, quarterly_csv, small_quarter

TODAY = dt.date(2026, 11, 26)


def read(data: bytes, name: str = "q.csv", **kw):
    return readers.read_file(data, name, today=TODAY, **kw)


def filler(n: int) -> list[list[str]]:
    """Rows the reader drops (another breakdown), to push what follows past the first 64 KB."""
    rows = []
    for i in range(n):
        rows += area_rows(vtype="Age", va=f"{18 + i % 50}")
    return rows


def kept_late(name: str = "NHS CAFÉ ICB") -> tuple[list[list[str]], int]:
    """Rows whose kept area, named ``name``, starts beyond the first 64 KB; and its line."""
    rows = filler(100)
    return rows + area_rows(name=name), len(rows) + 2


# --- encodings ---------------------------------------------------------------------------------


def test_late_windows_1252_byte_reads_the_whole_file_as_windows_1252():
    rows, _ = kept_late()
    data = quarterly_csv(rows, encoding="windows-1252")
    assert data.index(b"\xc9") > 65536
    r = read(data)
    assert r.frame.iloc[0]["area_name"] == "NHS CAFÉ ICB" and r.encoding == "windows-1252"


def test_undecodable_byte_named_at_its_row():
    rows, line = kept_late(name="NHS CAF\x81 ICB")  # 0x81 means nothing in Windows-1252
    data = quarterly_csv(rows, encoding="latin-1")
    with pytest.raises(InputError, match="neither UTF-8 nor Windows-1252") as e:
        read(data)
    assert e.value.row == line  # the first of the six rows that carry the name


def test_mixed_encodings_refused_at_the_first_bad_row():
    rows, line = kept_late()
    early = area_rows(code="QF7", name="NHS SÖUTH ICB")
    data = quarterly_csv(early + rows[: -6]) + quarterly_csv(rows[-6:], encoding="windows-1252"
                                                                 ).split(b"\n", 1)[1]
    with pytest.raises(InputError, match="mixes encodings") as e:
        read(data)
    assert e.value.row == line + 6


# --- line numbers ------------------------------------------------------------------------------


def test_blank_lines_do_not_shift_error_rows():
    # Issue 8: an error on line 13 was reported as line 10 when three blank lines came before.
    rows = area_rows(code="QF7") + area_rows(recovered="lots")
    lines = quarterly_csv(rows).split(b"\n")
    data = b"\n".join(lines[:3] + [b"", b"", b""] + lines[3:])
    with pytest.raises(InputError, match="lots") as e:
        read(data)
    assert e.value.row == 1 + 2 + 3 + 4 + 3  # header, 2 rows, 3 blanks, 4 rows, the M191 row
    assert data.split(b"\n")[e.value.row - 1].count(b"lots") == 1


@settings(max_examples=20, deadline=None)
@given(blanks=st.lists(st.integers(0, 30), min_size=1, max_size=5),
       size=st.sampled_from([256, 4096]), crlf=st.booleans())
def test_error_row_is_the_line_a_spreadsheet_shows(blanks, size, crlf):
    rows = filler(20) + area_rows(recovered="lots") + filler(5)
    lines = quarterly_csv(rows).split(b"\n")
    for at in sorted(blanks, reverse=True):
        lines.insert(1 + at, b"")
    eol = b"\r\n" if crlf else b"\n"
    data = eol.join(lines)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scan, "READ_BYTES", size)
        mp.setattr(scan, "BLOCK_BYTES", 2 * size)
        with pytest.raises(InputError) as e:
            read(data)
    assert b'"lots"' in data.split(eol)[e.value.row - 1]


def test_cr_only_line_ends_read_like_lf():
    data = quarterly_csv(small_quarter())
    assert read(data.replace(b"\n", b"\r")).frame.equals(read(data).frame)


# --- hostile files -----------------------------------------------------------------------------


def test_nul_byte_anywhere_refused_with_its_row():
    rows, line = kept_late(name="NHS \x00 ICB")
    with pytest.raises(InputError, match="NUL byte") as e:
        read(quarterly_csv(rows))
    assert e.value.row == line
    data = quarterly_csv(area_rows())
    with pytest.raises(InputError, match="NUL byte") as e:
        read(data.replace(b"M191", b"M\x0091"))  # early in the file too
    assert e.value.row == 4


class Endless(io.RawIOBase):
    """A stream of one endless line that counts what was read from it."""

    def __init__(self) -> None:
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        b[:] = b"x" * len(b)
        self.count += len(b)
        return len(b)


def test_overlong_line_refused_after_reading_little_more_than_the_limit():
    header = b"REPORTING_PERIOD_START,GroupType\n1,"
    stream = Endless()
    t = time.perf_counter()
    with pytest.raises(InputError, match="longer than 1 MB") as e:
        list(scan._blocks(io.BufferedReader(_Prefixed(header, stream)), "big.csv"))
    assert e.value.row == 2
    assert stream.count <= scan.MAX_LINE_BYTES + 2 * scan.READ_BYTES
    assert time.perf_counter() - t < 30  # not a timing claim: only that it stops at all


class _Prefixed(io.RawIOBase):
    def __init__(self, head: bytes, rest: io.RawIOBase) -> None:
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n], self.head = self.head[:n], self.head[n:]
            return n
        return self.rest.readinto(b)


def test_overlong_line_in_a_file():
    data = quarterly_csv(area_rows()) + b'"2025-10-01","' + b"x" * (2 * 1024**2) + b'"\n'
    with pytest.raises(InputError, match="longer than 1 MB") as e:
        read(data)
    assert e.value.row == 8


def test_zip_error_lists_at_most_ten_names():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(2000):
            zf.writestr(f"member_{i:05d}.txt", b"")
    with pytest.raises(InputError, match="no ICB/sub-ICB CSV") as e:
        read(buf.getvalue(), "many.zip")
    message = str(e.value)
    assert "2,000 files" in message and "and 1,990 more" in message
    assert message.count("member_") == 10 and len(message) < 600


def test_a_zip_from_macos_finder_reads_its_one_csv():
    """Finder adds __MACOSX/._<name> beside each file: it was counted as a second ICB CSV and
    the zip refused (a helper's review)."""
    data = quarterly_csv(small_quarter())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("q_ICB_subICB.csv", data)
        zf.writestr("__MACOSX/._q_ICB_subICB.csv", b"\x00\x05\x16\x07Mac OS X" + b"\x00" * 60)
    assert read(buf.getvalue(), "q.zip").frame.drop(columns="source").equals(
        read(data).frame.drop(columns="source"))


def test_an_annual_csv_in_a_zip_is_read_as_annual():
    """Told 'not an NHS Talking Therapies quarterly or annual file' (a helper's review)."""
    data = b"OrgType,OrgCode,OrgName,VariableType,VariableA,VariableB," \
        b"Count_FinishedCourseTreatment,Count_NotAtCaseness,Count_Recovery\n" \
        b"England,All,All,Total,NULL,NULL,100,10,45\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("psych-ther-ann-ICB-2024-25.csv", data)
    result = read(buf.getvalue(), "annual.zip")
    assert result.periods == ["2024/25"] and result.kind == "annual zip (ICB CSV)"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_not_waited_on(tmp_path):
    """A pipe never ends: the tool waited forever (a helper's review)."""
    fifo = tmp_path / "q.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        readers.read_file(fifo, today=TODAY)


def test_read_errors_become_clear_messages(tmp_path):
    class Failing(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:
            raise OSError(5, "Input/output error")

    with pytest.raises(InputError, match="could not be read .Input/output error") as e:
        readers.read_file(Failing(), "disk.csv", today=TODAY)
    assert e.value.file == "disk.csv"
    with pytest.raises(InputError, match="a folder, not a file"):
        readers.read_file(tmp_path, today=TODAY)


def test_kept_rows_capped_with_the_limit_in_the_error(monkeypatch):
    monkeypatch.setattr(scan, "MAX_KEPT_ROWS", 10)
    with pytest.raises(InputError, match="more than 10 rows of recovery measures"):
        read(quarterly_csv(small_quarter()))


def test_upload_limit_is_the_widgets_number():
    with open(ROOT / ".streamlit" / "config.toml", "rb") as f:
        mb = tomllib.load(f)["server"]["maxUploadSize"]
    assert readers.MAX_UPLOAD_MB == mb and readers.MAX_UPLOAD_BYTES == mb * 1000**2  # as the widget counts


def test_same_frame_whatever_the_block_size(monkeypatch):
    data = quarterly_csv(filler(50) + small_quarter() + filler(50))
    whole = read(data).frame
    monkeypatch.setattr(scan, "READ_BYTES", 300)
    monkeypatch.setattr(scan, "BLOCK_BYTES", 600)
    pd.testing.assert_frame_equal(read(data).frame, whole)


def test_kept_lines_parsed_again_read_as_the_whole_file(monkeypatch):
    """A block keeping few rows is parsed on the filter columns, then only its kept lines in
    full: the rows read, and the row an error names, are those of the file itself."""
    calls, cut = [], []
    parser, kept_lines = scan._parser, scan._kept_lines
    monkeypatch.setattr(scan, "_parser", lambda names, columns: calls.append(columns)
                        or parser(names, columns))
    monkeypatch.setattr(scan, "_kept_lines", lambda block, at: cut.append(len(at))
                        or kept_lines(block, at))
    kept = small_quarter()
    assert read(quarterly_csv(filler(40) + kept + filler(40))).frame.drop(columns="source") \
        .equals(read(quarterly_csv(kept)).frame.drop(columns="source"))
    assert len(calls[0]) > len(calls[1]) == 4  # every column; the filter's four
    assert cut and cut[0] < 80 * 6  # the kept lines only were parsed in full
    rows = filler(40) + area_rows(code="QF7") + filler(7) + area_rows(recovered="lots")
    data = quarterly_csv(rows + filler(40))
    with pytest.raises(InputError, match="lots") as e:
        read(data)
    assert e.value.row == 1 + 40 * 6 + 6 + 7 * 6 + 3  # header, filler, QF7, filler, M191 row
    assert data.split(b"\n")[e.value.row - 1].count(b"lots") == 1


def test_a_lone_cr_beside_a_blank_line_does_not_shift_rows():
    """One old-Mac line end (CR alone) makes a row the parser sees and the line count does not;
    a blank line elsewhere evens the counts, and the wrong lines were taken for the kept rows:
    a referrals count (30) was stored as QHM BME's reliable recovery (found by a helper's
    review)."""
    kept = small_quarter()
    stray = area_rows(vtype="BME Group", va="BME", reliable="30")  # M001-like row, not kept
    for r in stray:
        r[12], r[13] = "M001", "Count_ReferralsReceived"
    data = quarterly_csv(filler(3) + kept + stray + filler(150))
    lines = data.split(b"\n")
    lines[2] = lines[2] + b"\r" + lines[3]
    del lines[3]
    lines.insert(700, b"")
    damaged = b"\n".join(lines)
    frame = read(damaged).frame.drop(columns="source")
    pd.testing.assert_frame_equal(frame, read(quarterly_csv(kept)).frame.drop(columns="source"))
    assert scan._bare_cr(b"a\rb\n") and not scan._bare_cr(b"a\r\nb\r\n")
    assert scan._bare_cr(b"a\r")


def test_a_file_cut_inside_its_last_quoted_value_is_refused():
    """A download cut inside the last value ("15 read as "1) was read as complete."""
    data = quarterly_csv(small_quarter())
    assert data.endswith(b'"45.6"\n')
    with pytest.raises(InputError, match="ends inside a quoted value") as e:
        read(data[:-len(b'6"\n')])
    assert e.value.row == data.count(b"\n")  # the last row
    # A file whose last line simply lacks its line end is whole.
    assert read(data[:-1]).frame.equals(read(data).frame)


def test_a_line_break_inside_a_quoted_value_at_a_block_edge(monkeypatch):
    """Blocks were cut at the last line end even inside a quoted value, so a valid file with a
    line break in a name was refused as 'wrong number of fields' when the break fell at a
    block's edge (a helper's second review). Every block size reads the same rows."""
    rows = filler(12) + area_rows(code="QF7", name="NHS SOUTH\nYORKSHIRE ICB") + filler(12)
    data = quarterly_csv(rows)
    whole = read(data).frame
    assert "NHS SOUTH YORKSHIRE ICB" in set(whole["area_name"])
    for size in range(150, 1200, 23):  # the break lands on a block edge for several sizes
        monkeypatch.setattr(scan, "READ_BYTES", size)
        monkeypatch.setattr(scan, "BLOCK_BYTES", 2 * size)
        pd.testing.assert_frame_equal(read(data).frame, whole)
