"""The Parquet store: one file of tidy rows plus a log of what was loaded, when, from where.

Writes are atomic (``history.atomic_write``: a temporary file in the same folder, then
``os.replace``), so a reader sees either the old store or the new one, never half of each.
Every write makes a new version, kept as a byte copy in ``<stem>.history/`` (the last
``keep`` of them); undo and redo copy a checked version back (see ``core.history``). Every
operation runs under an exclusive lock on ``<name>.lock``, so two maintainers saving at once
both land and two undos move back two versions. The log travels inside the Parquet file's
metadata, so data and log can never disagree, and so does the store format's number.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core import history, model
from core.errors import InputError
from core.history import atomic_write
from core.merge import (
    CUT_SHARE,
    MergeReport,
    coverage,
    cut_message,
    diff,
    incoming_rows,
    merge,
    merge_results,
    suggest_removing_sample,
    without_sample,
)
from core.readers import ReadResult, read_file
from core.validate import unread_levels

__all__ = ["atomic_write", "Store", "StoreError", "load_store", "ingest", "merge", "diff",
           "merge_results", "incoming_rows", "coverage", "cut_message", "CUT_SHARE",
           "MergeReport", "suggest_removing_sample"]

LOG_KEY = b"nhstt.log"
SCHEMA_KEY = b"nhstt.schema"
VERSION_KEY = b"nhstt.version"
PARENT_KEY = b"nhstt.parent"
#: The store format this code writes. 1: no format number (before versions were kept);
#: 2: format number and versions; 3: a ``derived`` column (rows the product summed).
SCHEMA_VERSION = 3
#: Columns added by each format, with the value rows of an older store take: what a store of
#: that older format means (format 2 could not hold a derived row, so none of its rows was
#: marked; rows it summed are marked when their file is read again).
ADDED_COLUMNS: dict[int, dict[str, object]] = {3: {"derived": False}}
DEFAULT_KEEP = 10
MIN_KEEP = 5
RESTORE_HINT = ("A maintainer can restore a previous version: on the Upload data page, or with "
                "`python -m core restore`.")
LOG_FIELDS = {"loaded_at": str, "sources": list, "rows_added": int, "rows_replaced": int}


class StoreError(InputError):
    """The store itself cannot be used: what is wrong, and that a previous version can be
    restored. The only error ``Store.load``/``Store.log``/``load_store`` raise."""

    def __init__(self, problem: str, *, file: str | None = None) -> None:
        self.problem = problem
        super().__init__(f"{problem}. {RESTORE_HINT}", file=file)


# --- the store ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    """Where an undo or redo took the store, and the damaged versions it passed over."""

    version: int
    skipped: list[str]

    def lines(self, verb: str) -> list[str]:
        return [*self.skipped, f"{verb} version {self.version}."]


@dataclass
class Store:
    """A Parquet store at ``path`` (by default ``data/recovery.parquet`` in the project),
    keeping its last ``keep`` versions (at least 5)."""

    path: Path = model.DEFAULT_STORE
    keep: int = DEFAULT_KEEP

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.path.is_symlink():
            # A store linked from elsewhere (a shared disk) is written where it lives: an
            # atomic write would otherwise replace the link with a file, detaching it unseen.
            self.path = self.path.resolve()
        if self.keep < MIN_KEEP:
            raise ValueError(f"keep at least {MIN_KEEP} versions, not {self.keep}")

    @property
    def previous_path(self) -> Path:
        """Where the single previous version was kept before versions were (read once, to
        import it as the oldest version)."""
        return self.path.with_name(self.path.stem + ".prev" + self.path.suffix)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> pd.DataFrame:
        """The stored rows; raises only ``StoreError``."""
        if not self.path.exists():
            return model.empty_frame()
        frame = _guarded(self.path, lambda: _read_store(self.path)[0])
        # The Parquet pages and the Arrow table are freed by now, but Arrow's allocator keeps
        # them for reuse unless asked: some 40 MB of a server's resting memory (issue 13).
        pa.default_memory_pool().release_unused()
        return frame

    def log(self) -> list[dict]:
        """The log of loads; raises only ``StoreError``."""
        if not self.path.exists():
            return []
        return _guarded(self.path, lambda: _meta(pq.read_schema(self.path))["log"])

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                history.clean_temporary(self.path)
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def add(self, results: Sequence[ReadResult], *, synthetic: bool = False,
            remove_synthetic: bool = False, partial: bool = False) -> MergeReport:
        """Merge read files into the store and write it as a new version, all or nothing
        (none when every row is already stored with the same values: ``changes_nothing``).

        A file covering far fewer areas and groups than the store holds for one of its periods
        is refused unless ``partial``; ``remove_synthetic`` drops the synthetic sample first.
        """
        with self.locked():
            stored = self.load()
            log = self.log()
            stored, removed = without_sample(stored, remove_synthetic)
            incoming = incoming_rows(results, synthetic=synthetic)
            if not partial:
                message = cut_message(coverage(stored, incoming),
                                      ", ".join(sorted(set(incoming["source"]))),
                                      unread=unread_levels(results))
                if message:
                    raise InputError(message)
            merged, report = merge(stored, incoming)
            report.synthetic_removed = removed
            if report.changes_nothing:  # the same file again: no version that changes nothing
                return report
            late = self._write(merged, [*log, log_entry(report, synthetic=synthetic,
                                                         rows=len(merged))])
            if late:
                report.warnings.append(late)
        return report

    # -- versions (callers hold the lock) --

    def _head(self) -> int | None:
        """The version the store file holds, recording it first if it is not yet (a crash
        after the commit, a store from before versions, or a file put in place by hand).
        None when the store file is missing or unreadable."""
        if not self.path.is_file():
            return None
        data = self.path.read_bytes()
        checksum = hashlib.sha256(data).hexdigest()
        vs = history.versions(self.path)
        same = [v for v in vs if v.checksum == checksum]
        if same:
            return same[-1].number
        try:  # the footer is enough to tell a store from a damaged file; no need to parse it all
            meta = _meta(pq.read_schema(io.BytesIO(data)))
        except (StoreError, OSError, pa.ArrowException, ValueError):
            return None
        numbers = {v.number for v in vs}
        if not vs and self.previous_path.is_file():
            history.add(self.path, self.previous_path.read_bytes(), 1, 0)
            vs, numbers = history.versions(self.path), {1}
        if meta["version"] and meta["version"] not in numbers:
            number, parent = meta["version"], meta["parent"]
        else:
            number = max(numbers, default=0) + 1
            parent = max(numbers, default=0)
        history.add(self.path, data, number, parent)
        return number

    def _write(self, frame: pd.DataFrame, log: list[dict]) -> str | None:
        """Write ``frame`` as the next version. Once it is committed, failing to keep its copy
        in the history is not an error (saying "nothing was changed" would be false, and the
        next write records the copy, as after a crash): it is returned as a warning."""
        head = self._head()
        number = max([v.number for v in history.versions(self.path)] + [head or 0]) + 1
        data = to_parquet_bytes(frame, log, version=number, parent=head or 0)
        history.step("bytes-ready")
        atomic_write(self.path, data)  # the commit
        history.step("committed")
        try:
            history.add(self.path, data, number, head or 0)
            history.step("versioned")
            history.prune(self.path, self.keep, {number})
            history.step("pruned")
        except OSError as exc:
            return (f"Warning: the data was saved, but its copy in the version history "
                    f"({history.folder(self.path)}) could not be written: "
                    f"{exc.strerror or exc}. It will be kept at the next change once the "
                    "folder can be written to.")
        return None

    def _check(self, v: history.Version) -> tuple[bytes | None, str | None]:
        """The bytes of version ``v`` if they are whole and readable as a store, else why not."""
        why = history.intact(v)
        if why is None:
            try:
                data = v.path.read_bytes()
                if hashlib.sha256(data).hexdigest() != v.checksum:
                    raise StoreError("its contents do not match its checksum")
                _read_store(data)
                return data, None
            except (StoreError, OSError, pa.ArrowException, ValueError) as exc:
                why = getattr(exc, "problem", None) or str(exc)
        return None, f"Version {v.number} was skipped: {why}."

    def _move(self, candidates: Sequence[history.Version], nothing: str) -> Moved:
        skipped = []
        for v in candidates:
            data, why = self._check(v)
            if data is None:
                skipped.append(why)
                continue
            history.step("restore-checked")
            atomic_write(self.path, data)
            history.step("restored")
            return Moved(v.number, skipped)
        raise InputError(" ".join([*skipped, nothing]), file=str(self.path))

    def undo(self) -> Moved:
        """Move the store back one version (the one the current version was made from); a
        damaged version is skipped with a message. With an unreadable store file, put back
        the newest good version."""
        with self.locked():
            head = self._head()
            by_number = {v.number: v for v in history.versions(self.path)}
            if head is None:
                chain = sorted(by_number.values(), reverse=True)
            else:
                chain, n = [], by_number[head].parent
                while n in by_number:
                    chain.append(by_number[n])
                    n = by_number[n].parent
            return self._move(chain, "There is no earlier version to restore.")

    restore = undo

    def redo(self) -> Moved:
        """Move forward again to the newest version made from the current one."""
        with self.locked():
            head = self._head()
            if head is None:
                raise InputError("the store cannot be read, so there is nothing to redo from",
                                 file=str(self.path))
            children = [v for v in history.versions(self.path) if v.parent == head]
            return self._move(sorted(children, reverse=True), "There is no later version to redo.")

    def recover(self) -> int | None:
        """After a crash: record the store file as a version if it is not yet one, and remove
        temporary files a killed writer left. Every locked operation does this first; the
        version the store holds is returned (None when it is missing or unreadable)."""
        with self.locked():
            return self._head()

    def can_undo(self) -> bool:
        """Cheap check for the page's button (the move itself checks properly)."""
        return len(history.versions(self.path)) > 1 or self.previous_path.is_file()

    def history(self) -> list[dict]:
        """Every kept version, newest first: number, made from, checksum, whether whole, and
        what its last log entry says (when, which files, rows)."""
        with self.locked():
            head = self._head()
            out = []
            for v in reversed(history.versions(self.path)):
                data, why = self._check(v)
                entry: dict = {}
                if data is not None:
                    log = _meta(pq.read_schema(io.BytesIO(data)))["log"]
                    entry = log[-1] if log else {}
                out.append({"version": v.number, "parent": v.parent, "checksum": v.checksum,
                            "current": v.number == head, "damaged": why, **entry})
            return out


def _guarded(path: Path, read):
    """Run a read of the store, turning every way it can fail into a ``StoreError``."""
    try:
        if path.is_dir():
            raise IsADirectoryError(path)
        return read()
    except StoreError as exc:
        raise exc.in_file(str(path)) from None
    except IsADirectoryError:
        raise StoreError("the store path is a folder, not a Parquet file", file=str(path)) from None
    except OSError as exc:
        raise StoreError(f"the data store cannot be read ({exc.strerror or exc})",
                         file=str(path)) from None
    except (pa.ArrowException, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"the data store is damaged or not a store of this tool ({exc})",
                         file=str(path)) from None


def load_store(path: str | Path = model.DEFAULT_STORE) -> pd.DataFrame:
    """The app's way to load the store: the frame, or a ``StoreError`` to show in words."""
    return Store(Path(path)).load()


def _meta(schema: pa.Schema) -> dict:
    """Format number, version, parent and log from a store's metadata, each checked."""
    meta = schema.metadata or {}
    try:
        fmt = int(meta.get(SCHEMA_KEY, b"1"))
        version = int(meta.get(VERSION_KEY, b"0"))
        parent = int(meta.get(PARENT_KEY, b"0"))
    except ValueError:
        raise StoreError("the store's format or version number is not a number") from None
    if fmt > SCHEMA_VERSION:
        raise StoreError(
            f"the store was written by a newer version of this tool (store format {fmt}; this "
            f"tool reads formats up to {SCHEMA_VERSION}), so it was not read or changed. Update "
            f"the tool")
    return {"format": fmt, "version": version, "parent": parent, "log": read_log(schema)}


def _read_store(source: bytes | Path) -> tuple[pd.DataFrame, dict]:
    # ParquetFile.read gives each column in one piece (read_table splits a row group into
    # batches), so the explorer's ``model.compact`` has nothing left to join (0.09 s a load).
    table = pq.ParquetFile(io.BytesIO(source) if isinstance(source, bytes) else source).read()
    meta = _meta(table.schema)
    return load_table(table, meta["format"]), meta


def log_entry(report: MergeReport, *, synthetic: bool, rows: int | None = None) -> dict:
    entry = {
        "loaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sources": report.sources,
        "periods_added": report.periods_added,
        "periods_replaced": report.periods_replaced,
        "rows_added": report.added,
        "rows_replaced": report.replaced,
        "synthetic": synthetic,
    }
    if rows is not None:
        entry["rows"] = rows
    if report.synthetic_removed:
        entry["synthetic_removed"] = report.synthetic_removed
    return entry


def to_parquet_bytes(frame: pd.DataFrame, log: list[dict], *, version: int = 0,
                     parent: int = 0) -> bytes:
    table = pa.Table.from_pandas(model.conform(frame), schema=model.SCHEMA, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta.pop(b"pandas", None)
    meta[LOG_KEY] = json.dumps(log).encode()
    meta[SCHEMA_KEY] = str(SCHEMA_VERSION).encode()
    if version:
        meta[VERSION_KEY] = str(version).encode()
        meta[PARENT_KEY] = str(parent).encode()
    table = table.replace_schema_metadata(meta)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def read_log(schema: pa.Schema) -> list[dict]:
    """The log of loads, each entry checked, so a damaged entry is reported, not shown."""
    raw = (schema.metadata or {}).get(LOG_KEY)
    if not raw:
        return []
    try:
        log = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise StoreError("the store's load log is damaged (not valid JSON)") from None
    if not isinstance(log, list):
        raise StoreError("the store's load log is damaged (not a list of entries)")
    for i, entry in enumerate(log, 1):
        bad = [k for k, t in LOG_FIELDS.items()
               if not isinstance(entry, dict) or not isinstance(entry.get(k), t)]
        if bad:
            raise StoreError(f"entry {i} of the store's load log is damaged (bad or missing "
                             f"{', '.join(bad)})")
    return log


def migrate(table: pa.Table, fmt: int) -> pa.Table:
    """A table of an older store format with the columns later formats added, each with the
    value its format implies (``ADDED_COLUMNS``); only columns the table lacks are added."""
    for version, columns in sorted(ADDED_COLUMNS.items()):
        if fmt >= version:
            continue
        for name, value in columns.items():
            if name not in table.column_names:
                field = model.SCHEMA.field(name)
                table = table.append_column(field, pa.array([value] * table.num_rows, field.type))
    return table


def load_table(table: pa.Table, fmt: int = SCHEMA_VERSION) -> pd.DataFrame:
    """The model's frame from a store's table of format ``fmt`` (older formats migrated)."""
    table = migrate(table, fmt)
    missing = set(model.COLUMNS) - set(table.column_names)
    if missing:
        raise StoreError(
            "this Parquet file is not a store of this tool: missing columns "
            + ", ".join(sorted(missing))
        )
    return model.conform(table.select(list(model.COLUMNS)).to_pandas(types_mapper=_dtype))


def _dtype(arrow_type: pa.DataType) -> object:
    """The model's pandas dtype for an Arrow type, so a store's columns arrive conforming:
    converting them after the read (``model.conform``) cost five times the read itself."""
    if pa.types.is_int64(arrow_type):
        return pd.Int64Dtype()
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' "str"
    return None


def ingest(
    paths: Sequence[str | Path],
    store: Store,
    *,
    synthetic: bool = False,
    period: str | None = None,
    remove_synthetic: bool = False,
    partial: bool = False,
) -> tuple[list[ReadResult], MergeReport]:
    """Read every file first, then merge them in one write: one bad file changes nothing."""
    results = [read_file(p, period=period) for p in paths]
    return results, store.add(results, synthetic=synthetic, remove_synthetic=remove_synthetic,
                              partial=partial)
