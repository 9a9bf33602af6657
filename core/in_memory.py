"""Reading bytes already in memory as a file, without copying them.

An upload arrives whole in memory (Streamlit's ``UploadedFile`` is a ``BytesIO``); the readers
take files. ``io.BytesIO(data)`` would copy it, which for a 300 MB upload is 300 MB more at the
upload page's peak, so the readers get a seekable view of the same buffer instead.
"""

from __future__ import annotations

import io
from typing import BinaryIO


class MemoryFile(io.RawIOBase):
    """A seekable, read-only file over bytes already in memory, without copying them."""

    def __init__(self, data: memoryview) -> None:
        self._data, self._pos = data, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001 - any writable buffer
        n = max(0, min(len(buffer), len(self._data) - self._pos))
        buffer[:n] = self._data[self._pos:self._pos + n]
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._data)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


def in_memory(data: memoryview) -> BinaryIO:
    """A buffered, seekable file over ``data`` (a memoryview: nothing is copied)."""
    return io.BufferedReader(MemoryFile(data), buffer_size=1 << 16)
