"""A browser session's own merged store on disk, deleted when the session ends.

"Use for this session" writes the merged store into an ``nhstt-session-*`` folder in the temp
directory. The folder belongs to a ``SessionFolder`` kept in that session's state: when the
session ends, Streamlit drops its state, the object is collected and its finaliser deletes the
folder; a new upload replacing the old one closes it at once; and anything left at the
process's exit is deleted then. Without this, every session that ever applied an upload left
its store behind.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path

PREFIX = "nhstt-session-"


class SessionFolder:
    """A temporary folder that lives exactly as long as this object (or until ``close``)."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=PREFIX))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), ignore_errors=True)

    @property
    def store_path(self) -> Path:
        return self.path / "recovery.parquet"

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def close(self) -> None:
        self._finalizer()
