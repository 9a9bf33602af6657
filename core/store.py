"""The Parquet store: one file of tidy rows plus a log of what was loaded, when, from where.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), so a reader sees
either the old store or the new one, never half of each. The previous version is kept beside
the store (``recovery.prev.parquet``) so one step can be undone. Saves are serialised with an
exclusive lock on ``recovery.parquet.lock``, so two maintainers saving at once both land.
The log travels inside the Parquet file's metadata, so data and log can never disagree.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import io
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core import model
from core.errors import InputError
from core.readers import ReadResult, read_file

LOG_KEY = b"nhstt.log"


@dataclass
class MergeReport:
    """What a merge did, for the command line and the upload page to say in words."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    periods_added: list[str] = field(default_factory=list)
    periods_replaced: list[str] = field(default_factory=list)
    new_areas: list[tuple[str, str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"Added {self.added:,} rows, replaced {self.replaced:,}, "
            f"{self.unchanged:,} identical to what was stored."
        ]
        if self.periods_added:
            out.append("New periods: " + ", ".join(self.periods_added) + ".")
        if self.periods_replaced:
            out.append("Periods replaced: " + ", ".join(self.periods_replaced) + ".")
        if self.new_areas:
            shown = ", ".join(f"{c} {n} ({lvl})" for lvl, c, n in self.new_areas[:10])
            more = f" and {len(self.new_areas) - 10} more" if len(self.new_areas) > 10 else ""
            out.append(f"Area codes not stored before: {shown}{more}.")
        return out


def _key(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([frame[c] for c in model.KEY_COLUMNS])


def diff(stored: pd.DataFrame, incoming: pd.DataFrame) -> MergeReport:
    """What merging ``incoming`` would do, without building the merged store."""
    return _diff(stored, incoming, _key(stored), _key(incoming))


def _diff(stored: pd.DataFrame, incoming: pd.DataFrame, old_key: pd.MultiIndex,
          new_key: pd.MultiIndex) -> MergeReport:
    report = MergeReport()
    hit = new_key.isin(old_key)
    report.added = int((~hit).sum())
    if hit.any():
        values = [*model.COUNT_COLUMNS, *model.PERCENT_COLUMNS, "area_name", "suppressed"]
        positions = old_key.get_indexer(new_key[hit])
        before = stored.iloc[positions][values].reset_index(drop=True)
        after = incoming[hit][values].reset_index(drop=True)
        same = pd.Series(True, index=range(len(after)))
        for c in values:
            x, y = before[c].astype(object), after[c].astype(object)
            equal = pd.Series([a == b for a, b in zip(x, y, strict=True)], dtype=object)
            same &= (x.isna() & y.isna()) | equal.fillna(False).astype(bool)
        report.unchanged = int(same.sum())
        report.replaced = int((~same).sum())
    old_periods = set(stored["period"].unique())
    for period in dict.fromkeys(incoming.sort_values("period_start")["period"]):
        (report.periods_replaced if period in old_periods else report.periods_added).append(period)
    known = set(stored[["level", "area_code"]].drop_duplicates().itertuples(index=False, name=None))
    areas = incoming.drop_duplicates(["level", "area_code"])
    report.new_areas = [
        (lvl, code, name)
        for lvl, code, name in zip(areas["level"], areas["area_code"], areas["area_name"], strict=True)
        if (lvl, code) not in known and stored.shape[0] > 0
    ]
    report.sources = sorted(set(incoming["source"]))
    return report


def merge(stored: pd.DataFrame, incoming: pd.DataFrame) -> tuple[pd.DataFrame, MergeReport]:
    """Rows of ``incoming`` replace stored rows with the same period, area and group.

    A row carries every measure of its key, so the replacement is of the whole observation;
    everything not in ``incoming`` is kept as it was.
    """
    old_key, new_key = _key(stored), _key(incoming)
    report = _diff(stored, incoming, old_key, new_key)
    kept = stored[~old_key.isin(new_key)]
    incoming = model.conform(incoming)
    # conform() hands back a conforming frame as it is, so copy before sorting in place.
    merged = pd.concat([kept, incoming], ignore_index=True) if len(kept) else incoming.copy()
    del kept
    if not merged.dtypes.equals(incoming.dtypes):
        merged = model.conform(merged)
    merged.sort_values(["period_start", "level", "area_code", "breakdown", "group"],
                       kind="stable", inplace=True, ignore_index=True)
    return merged, report


@dataclass
class Store:
    """A Parquet store at ``path`` (by default ``data/recovery.parquet`` in the project)."""

    path: Path = model.DEFAULT_STORE

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    @property
    def previous_path(self) -> Path:
        return self.path.with_name(self.path.stem + ".prev" + self.path.suffix)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> pd.DataFrame:
        if not self.exists():
            return model.empty_frame()
        return load_table(pq.read_table(self.path))

    def log(self) -> list[dict]:
        if not self.exists():
            return []
        return read_log(pq.read_schema(self.path))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def add(self, results: Sequence[ReadResult], *, synthetic: bool = False) -> MergeReport:
        """Merge read files into the store and write it, all or nothing."""
        with self.locked():
            stored = self.load()
            merged, report = merge_results(stored, results, synthetic=synthetic)
            entry = log_entry(report, synthetic=synthetic)
            self._write(merged, [*self.log(), entry])
        return report

    def _write(self, frame: pd.DataFrame, log: list[dict]) -> None:
        data = to_parquet_bytes(frame, log)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".parquet")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            prev_tmp = self.previous_path.with_name(".tmp-prev-" + self.path.name)
            if self.exists():
                # Keep the previous version (a copy, so the rename below stays atomic).
                prev_tmp.write_bytes(self.path.read_bytes())
                os.replace(prev_tmp, self.previous_path)
            os.replace(tmp, self.path)
        finally:
            for leftover in (tmp, prev_tmp):
                if os.path.exists(leftover):
                    os.unlink(leftover)

    def restore(self) -> None:
        """Put the previous version back (and keep the current one as the new previous)."""
        with self.locked():
            if not self.previous_path.is_file():
                raise InputError("there is no previous version to restore", file=str(self.path))
            current = self.path.read_bytes() if self.exists() else None
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".parquet")
            with os.fdopen(fd, "wb") as f:
                f.write(self.previous_path.read_bytes())
            os.replace(tmp, self.path)
            if current is not None:
                self.previous_path.write_bytes(current)


def incoming_rows(results: Sequence[ReadResult], *, synthetic: bool = False) -> pd.DataFrame:
    """All rows of the files read, marked; a later file in one call wins over an earlier one."""
    incoming = pd.concat([r.frame for r in results], ignore_index=True)
    incoming["synthetic"] = synthetic
    return incoming[~incoming.duplicated(list(model.KEY_COLUMNS), keep="last")]


def merge_results(
    stored: pd.DataFrame, results: Sequence[ReadResult], *, synthetic: bool = False
) -> tuple[pd.DataFrame, MergeReport]:
    return merge(stored, incoming_rows(results, synthetic=synthetic))


def log_entry(report: MergeReport, *, synthetic: bool) -> dict:
    return {
        "loaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sources": report.sources,
        "periods_added": report.periods_added,
        "periods_replaced": report.periods_replaced,
        "rows_added": report.added,
        "rows_replaced": report.replaced,
        "synthetic": synthetic,
    }


def to_parquet_bytes(frame: pd.DataFrame, log: list[dict]) -> bytes:
    table = pa.Table.from_pandas(model.conform(frame), schema=model.SCHEMA, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta.pop(b"pandas", None)
    meta[LOG_KEY] = json.dumps(log).encode()
    table = table.replace_schema_metadata(meta)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def read_log(schema: pa.Schema) -> list[dict]:
    raw = (schema.metadata or {}).get(LOG_KEY)
    return json.loads(raw) if raw else []


def load_table(table: pa.Table) -> pd.DataFrame:
    missing = set(model.COLUMNS) - set(table.column_names)
    if missing:
        raise InputError(
            "this Parquet file is not a store of this tool: missing columns "
            + ", ".join(sorted(missing))
        )
    return model.conform(table.select(list(model.COLUMNS)).to_pandas())


def ingest(
    paths: Sequence[str | Path],
    store: Store,
    *,
    synthetic: bool = False,
    period: str | None = None,
) -> tuple[list[ReadResult], MergeReport]:
    """Read every file first, then merge them in one write: one bad file changes nothing."""
    results = [read_file(p, period=period) for p in paths]
    return results, store.add(results, synthetic=synthetic)
