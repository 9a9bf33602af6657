"""What every page starts with: inside the entry point, the data source, the selection.

A store that cannot be read (damaged, cut, written by a newer version) must not take the app
down: the entry point catches the ``StoreError`` (``open_store``) and every page then opens on
one plain message saying what is wrong and that a maintainer can restore a previous version,
with no traceback and no server path. The Upload data page asks for the problem instead
(``repairs=True``), because it is where a maintainer restores the last good version.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from core.explore import Explorer
from core.store import StoreError
from ui import data, entry
from ui.state import Selection


@dataclass(frozen=True)
class Context:
    source: data.Source
    #: None when the store cannot be read (then ``problem`` says why).
    explorer: Explorer | None
    sel: Selection | None
    problem: str | None = None


CONTEXT_KEY = "_run_context"

BROKEN = ("**The data cannot be shown at the moment: the stored data cannot be read.** "
          "Nothing on this page can be trusted until it is repaired. A maintainer can restore "
          "a previous version: on the Upload data page, or with `python -m core restore`.")

# An absolute path inside a message (Arrow and the OS name the file they failed on): only
# its last part is shown, so a page never reveals where the server keeps its files.
_PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?[/\\][^\s'\"(),;:]+")


def plain_problem(problem: str) -> str:
    """The problem in words for a page: server paths reduced to the file's name."""
    return _PATH.sub(lambda m: re.split(r"[/\\]", m.group())[-1] or "(a file)", problem)


def open_store(source: data.Source) -> tuple[Explorer | None, str | None]:
    """The store's Explorer, or None and what is wrong with the store in plain words."""
    try:
        return data.explorer(source.path, source.mtime, raw=True), None
    except StoreError as exc:
        return None, plain_problem(exc.problem)


def remember(source: data.Source, explorer: Explorer | None, problem: str | None = None) -> None:
    """Called by the entry point on every run, before the page."""
    st.session_state[CONTEXT_KEY] = (source, explorer, problem)


def _look_up() -> tuple[data.Source, Explorer | None, str | None]:
    source = data.active_source()
    return (source, *open_store(source))


def start(title: str | Callable[[Selection | None], str], *, needs_quarters: bool = True,
          repairs: bool = False) -> Context:
    """Title the page; stop with a plain message when there is nothing to show yet, or when
    the store cannot be read (unless the page ``repairs`` it and shows ``problem`` itself)."""
    entry.require()
    # What the entry point found for this run (it ran just before the page): no second look-up.
    found = st.session_state.get(CONTEXT_KEY)
    source, explorer, problem = found if found and len(found) == 3 else _look_up()
    ctx = Context(source, explorer,
                  st.session_state.get("selection") if explorer is not None else None,
                  problem)
    st.title(title(ctx.sel) if callable(title) else title)
    if problem is not None and not repairs:
        broken(problem)
        st.stop()
    if needs_quarters and (ctx.sel is None or not ctx.explorer.published(ctx.sel.period)):
        kind = "quarterly" if ctx.sel is None or ctx.sel.period == "quarter" else "annual"
        st.info(f"No {kind} data is loaded yet: add a published file on the Upload data page"
                + ("." if ctx.sel is None else ", or choose the other period type in the sidebar."))
        st.stop()
    return ctx


def broken(problem: str) -> None:
    """The plain message every page shows for a store that cannot be read."""
    st.error(BROKEN, icon=":material/error:")
    st.text(f"What is wrong: {problem}")
