"""Opening what a maintainer hands us: a path, bytes or an upload, and a zip's one
ICB/sub-ICB CSV (the provider CSVs repeat the England rows and are not needed), within the
size and zip limits. Reading the CSV's rows is ``core.scan``'s job.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from core.errors import InputError
from core.in_memory import in_memory
from core.limits import (
    LIST_AT_MOST,
    MAX_COMPRESSION_RATIO,
    MAX_CSV_BYTES,
    READ_BYTES,
)

Source = str | Path | bytes | BinaryIO
Opener = Callable[[], BinaryIO]


def open_source(source: Source, name: str | None) -> tuple[Opener, str]:
    """A function that opens the source afresh (readers may pass over it twice) and its name."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        label = name or path.name

        def open_path() -> BinaryIO:
            try:
                return open(path, "rb")
            except OSError as exc:
                raise InputError(f"cannot open the file: {exc.strerror or exc}", file=label) from exc

        if not path.exists():
            raise InputError("no such file", file=str(source))
        if path.is_dir():
            raise InputError("this is a folder, not a file", file=str(source))
        if not path.is_file():  # a named pipe or a device never ends: reading would hang
            raise InputError("this is not a regular file (a named pipe or a device?): give "
                             "the path of the CSV or zip itself", file=str(source))
        return open_path, label
    if isinstance(source, bytes):
        data = memoryview(source)
        return (lambda: in_memory(data)), name or "upload"
    label = name or getattr(source, "name", None) or "upload"
    if isinstance(source, io.BytesIO):
        # An uploaded file (Streamlit's UploadedFile is a BytesIO over the upload's bytes):
        # read those bytes in place. ``getvalue`` hands back the very bytes object the BytesIO
        # was made from; ``getbuffer`` would first copy it (CPython un-shares the buffer
        # before exporting it), 300 MB more at the upload page's peak.
        data = memoryview(source.getvalue())
        return (lambda: in_memory(data)), label
    data = memoryview(read_chunk(source, -1, label))
    return (lambda: in_memory(data)), label




def read_head(opener: Opener, name: str, size: int = 65536) -> bytes:
    with opener() as f:
        return read_chunk(f, size, name)


def read_chunk(f: BinaryIO, n: int, name: str) -> bytes:
    """Up to ``n`` bytes, a read error said in words."""
    try:
        return f.read(n)
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"the file could not be read ({exc.strerror or exc})", file=name) from exc


def names_in_words(names: list[str]) -> str:
    shown = ", ".join(names[:LIST_AT_MOST]) or "nothing"
    more = len(names) - LIST_AT_MOST
    return shown + (f" and {more:,} more" if more > 0 else "")


# --------------------------------------------------------------------------------------------
# Zip


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
                f"the CSV expands beyond {self._limit // 1024**2:,} MB, the most this product "
                "reads from a zip (published ICB/sub-ICB CSVs are a few hundred MB); refusing it",
                file=self._name,
            )
        return data


def declares_too_much(info: zipfile.ZipInfo) -> bool:
    """A member whose header promises more than any published file (checked before reading)."""
    ratio = info.file_size / info.compress_size if info.compress_size else 0
    return info.file_size > MAX_CSV_BYTES or ratio > MAX_COMPRESSION_RATIO


def open_zip(handle: BinaryIO, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
        raise InputError(
            "the zip file is damaged or incomplete (a download cut short?): " + str(exc), file=name
        ) from exc


def icb_member(zf: zipfile.ZipFile, name: str) -> tuple[Opener, str]:
    """The zip's ICB/sub-ICB CSV, as an opener of a size-limited stream, and its name."""
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
                f"the zip holds a path that points outside it ({info.filename[:200]!r}); "
                "refusing it",
                file=name,
            )
    wanted = [
        i for i in infos
        if i.filename.lower().endswith(".csv") and not i.is_dir()
        # macOS Finder adds __MACOSX/._<name> beside each file it zips: metadata, not data
        and not i.filename.startswith("__MACOSX/") and not Path(i.filename).name.startswith("._")
        and "provider" not in Path(i.filename).name.lower()
        and re.search(r"icb|ccg|stp", Path(i.filename).name.lower())
    ]
    if not wanted:
        raise InputError(
            "the zip has no ICB/sub-ICB CSV (a file named like '..._ICB_subICB_...csv'); "
            f"it holds {len(names):,} file{'s' if len(names) != 1 else ''}: {names_in_words(names)}",
            file=name,
        )
    if len(wanted) > 1:
        raise InputError(
            f"the zip has {len(wanted):,} ICB/sub-ICB CSVs ("
            + names_in_words([i.filename for i in wanted])
            + "); upload them one at a time",
            file=name,
        )
    info = wanted[0]
    member = f"{name} › {info.filename}"
    if info.flag_bits & 0x1:
        raise InputError("the CSV in the zip is password-protected (encrypted): NHS England's "
                         "zips are not; download the file again", file=member)
    if declares_too_much(info):
        mb = info.file_size / 1024**2
        too_big = info.file_size > MAX_CSV_BYTES
        raise InputError(
            f"the CSV inside would expand to {mb:,.0f} MB from "
            f"{info.compress_size / 1024**2:,.1f} MB"
            + (f", more than the {MAX_CSV_BYTES // 1024**2:,} MB read" if too_big else
               f", {info.file_size / max(info.compress_size, 1):,.0f} times its size in the zip "
               f"(a published CSV is at most {MAX_COMPRESSION_RATIO} times)")
            + ": not a published file (a zip bomb?)",
            file=member,
        )

    def open_member() -> BinaryIO:
        try:
            inner = zf.open(info)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
            raise InputError(f"cannot open the CSV in the zip: {exc}", file=member) from exc
        return io.BufferedReader(_Limited(inner, MAX_CSV_BYTES, member), READ_BYTES)

    return open_member, member
