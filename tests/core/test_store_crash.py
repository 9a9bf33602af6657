"""Crash safety of the store's history: kill -9 at every instrumented step of a write, an undo
and a redo, and a property test over random interleavings of ingest, save, undo and redo with
a kill at any step. Each operation runs in a forked child that ``history.hook`` kills with
SIGKILL at the chosen step (no finally block runs, exactly like kill -9); no sleeps."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import signal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import history
from core.errors import InputError
from core.readers import read_file
from core.store import Store, ingest
from tests.conftest import area_rows, quarterly_csv, small_quarter

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

QUARTERS = [("2025-04-01", "2025-06-30"), ("2025-07-01", "2025-09-30"),
            ("2025-10-01", "2025-12-31"), ("2026-01-01", "2026-03-31")]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def quarter_file(folder: Path, i: int, finished: int) -> Path:
    start, end = QUARTERS[i % 4]
    rows = small_quarter(start, end)
    rows[:6] = area_rows(start, end, level="England", code="ENG", name="England",
                         finished=str(finished), nac="9000", recovered="81000",
                         reliable="76000", pct="50.3")
    p = folder / f"q{i}_{finished}.csv"
    p.write_bytes(quarterly_csv(rows))
    return p


def in_child(fn, kill_at: int | None) -> str:
    """Run ``fn`` in a forked child killed with SIGKILL at instrumented step ``kill_at``:
    'done', 'refused' (an InputError, e.g. nothing to undo) or 'killed'."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        count = 0

        def hook(step: str) -> None:
            nonlocal count
            count += 1
            if count == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        history.hook = hook
        try:
            fn()
            os._exit(0)
        except InputError:
            os._exit(3)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return "killed"
    code = os.WEXITSTATUS(status)
    assert code in (0, 3), f"the operation failed with an unexpected error (exit {code})"
    return "done" if code == 0 else "refused"


def assert_sound(s: Store) -> None:
    """The store loads, every kept version is whole, the store file is one of them (after the
    next locked operation records it), and no temporary file outlives the next operation."""
    s.load()
    s.recover()  # records a committed-but-unrecorded store, cleans leftovers
    versions = history.versions(s.path)
    assert all(history.intact(v) is None for v in versions)
    assert sha(s.path) in {v.checksum for v in versions}
    assert not [p for p in s.path.parent.rglob(".tmp-*")]


def england(s: Store) -> list[int]:
    f = s.load()
    f = f[(f["level"] == "England") & (f["group"] == "Total")].sort_values("period_start")
    return [int(x) for x in f["finished"]]


@pytest.mark.parametrize("op", ["write", "undo", "redo"])
def test_kill_9_at_every_step(tmp_path, op):
    base = tmp_path / "base"
    base.mkdir()
    s0 = Store(base / "s.parquet")
    for finished in (170000, 170001):
        ingest([quarter_file(tmp_path, 0, finished)], s0)
    if op == "redo":
        s0.undo()
    before = england(s0)
    after = {"write": [170002], "undo": [170000], "redo": [170001]}[op]
    new_file = quarter_file(tmp_path, 0, 170002)
    k, outcomes = 0, []
    while True:
        k += 1
        run = tmp_path / f"run{k}"
        shutil.copytree(base, run)
        s = Store(run / "s.parquet")
        kept = {v.checksum for v in history.versions(s.path)}
        fn = {"write": lambda s=s: ingest([new_file], s), "undo": s.undo, "redo": s.redo}[op]
        outcome = in_child(fn, kill_at=k)
        outcomes.append(outcome)
        assert_sound(s)
        assert england(s) in (before, after), f"killed at step {k}"
        assert kept <= {v.checksum for v in history.versions(s.path)}, "a version was lost"
        if outcome == "done":
            assert england(s) == after
            break
        assert outcome == "killed"
        # the next write after the kill works and is undoable
        ingest([quarter_file(tmp_path, 1, 170000)], s)
        s.undo()
        assert england(s) in (before, after)
    assert outcomes.count("killed") >= 4  # every step of the operation was interrupted once


@functools.cache
def read(path: Path):
    return read_file(path)


OPS = st.one_of(
    st.tuples(st.just("ingest"), st.integers(0, 3), st.integers(0, 2)),
    st.tuples(st.just("save"), st.integers(0, 3), st.integers(0, 2)),
    st.tuples(st.just("undo"), st.just(0), st.just(0)),
    st.tuples(st.just("redo"), st.just(0), st.just(0)),
    st.tuples(st.just("damage"), st.integers(0, 50), st.just(0)),
)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(OPS, st.one_of(st.none(), st.integers(1, 16))),
                      min_size=1, max_size=6))
def test_random_interleavings_with_kills_never_lose_or_restore_damage(tmp_path_factory, steps):
    folder = tmp_path_factory.mktemp("prop")
    s = Store(folder / "s.parquet", keep=50)  # no pruning: every committed version must stay
    ingest([quarter_file(folder, 0, 170000)], s)
    committed = {sha(s.path)}
    damaged: set[str] = set()
    for (op, i, v), kill_at in steps:
        if op == "damage":
            others = [x for x in history.versions(s.path) if x.checksum != sha(s.path)]
            if others:
                target = others[i % len(others)]
                target.path.write_bytes(target.path.read_bytes()[:-7])  # cut short
                damaged.add(target.checksum)
            continue
        path = quarter_file(folder, i, 170000 + v)
        result = read(path) if op == "save" else None
        fn = {"ingest": lambda p=path: ingest([p], s),
              "save": lambda r=result: s.add([r]),
              "undo": s.undo, "redo": s.redo}[op]
        outcome = in_child(fn, kill_at)
        s.load()  # always readable
        if outcome == "done" and op in ("ingest", "save"):
            committed.add(sha(s.path))
        current = sha(s.path)
        assert current not in damaged, "a damaged version was restored"
        s.recover()
        kept = {x.checksum for x in history.versions(s.path)}
        assert committed <= kept, "a committed version was lost"
        assert not [p for p in folder.rglob(".tmp-*")]
