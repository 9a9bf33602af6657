"""The store's versions on disk: an append-only folder of complete Parquet files.

Every write of the store first writes the new store file (the commit point, one atomic
rename) and then a byte copy of it into ``<stem>.history/`` as
``v000007.p000006.<sha256>.parquet``: its number, the number of the version it was made from,
and the checksum of its bytes. A version file is never edited; undo and redo copy one back
over the store. Everything a move needs is in the file names, so a listing is cheap and a
damaged file is found by hashing it against its own name.

Why the store file is written before its version copy: if the process dies between the two,
the store holds the new version and its copy is simply missing; the next locked operation
writes it (``repair``). The other order would leave a version that never became the store,
which a later redo could bring back.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: Called with the name of each step of a write; tests replace it to crash at that step.
Hook = Callable[[str], None]


def _no_hook(step: str) -> None:
    return None


hook: Hook = _no_hook

_NAME = re.compile(r"^v(\d{6,})\.p(\d{6,})\.([0-9a-f]{64})\.parquet$")
TMP_PREFIX = ".tmp-"


def step(name: str) -> None:
    hook(name)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, whole.

    A temporary file in the same folder is written, flushed to disk, given the old file's
    permissions (or ``mode``, else 0644 less the umask: ``mkstemp`` makes files readable by
    their owner only), then renamed over ``path``. On any failure the temporary file is
    removed and the original error is raised unchanged, so a full disk says so.
    """
    path = Path(path)
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TMP_PREFIX}{path.name}-", suffix=".tmp")
    try:
        step("tmp-created")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            step("tmp-written")
            f.flush()
            os.fsync(f.fileno())
        step("tmp-synced")
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        step("renamed")
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass(frozen=True, order=True)
class Version:
    number: int
    parent: int
    checksum: str
    path: Path

    @property
    def label(self) -> str:
        return f"v{self.number}"


def folder(store_path: Path) -> Path:
    return store_path.with_name(store_path.stem + ".history")


def versions(store_path: Path) -> list[Version]:
    """Every version file, oldest first (files with other names are ignored)."""
    d = folder(store_path)
    if not d.is_dir():
        return []
    out = []
    for p in d.iterdir():
        m = _NAME.match(p.name)
        if m:
            out.append(Version(int(m[1]), int(m[2]), m[3], p))
    return sorted(out)


def add(store_path: Path, data: bytes, number: int, parent: int) -> Version:
    """Keep ``data`` (the bytes the store now holds) as version ``number``."""
    d = folder(store_path)
    d.mkdir(exist_ok=True)
    checksum = hashlib.sha256(data).hexdigest()
    path = d / f"v{number:06d}.p{parent:06d}.{checksum}.parquet"
    if not path.exists():
        mode = os.stat(store_path).st_mode & 0o777 if store_path.exists() else None
        atomic_write(path, data, mode=mode)
    return Version(number, parent, checksum, path)


def intact(v: Version) -> str | None:
    """Why version ``v`` cannot be used (None when its bytes match its checksum)."""
    try:
        actual = sha256_file(v.path)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if actual != v.checksum:
        return "its contents do not match its checksum (the file is damaged)"
    return None


def prune(store_path: Path, keep: int, protect: set[int]) -> list[Version]:
    """Delete all but the newest ``keep`` versions (never one in ``protect``)."""
    vs = versions(store_path)
    old = [v for v in vs[:-keep] if v.number not in protect] if len(vs) > keep else []
    for v in old:
        step("prune")
        with contextlib.suppress(FileNotFoundError):
            v.path.unlink()
    return old


def clean_temporary(store_path: Path) -> None:
    """Remove temporary files a killed writer left (call only while holding the store lock)."""
    patterns = [(store_path.parent, f"{TMP_PREFIX}{store_path.name}-*.tmp"),
                (folder(store_path), f"{TMP_PREFIX}*.tmp")]
    for d, pattern in patterns:
        if d.is_dir():
            for p in d.glob(pattern):
                with contextlib.suppress(OSError):
                    p.unlink()
