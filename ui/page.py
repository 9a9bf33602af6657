"""What every page starts with: inside the entry point, the data source, the selection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from core.explore import Explorer
from ui import data, entry
from ui.state import Selection


@dataclass(frozen=True)
class Context:
    source: data.Source
    explorer: Explorer
    sel: Selection | None


CONTEXT_KEY = "_run_context"


def remember(source: data.Source, explorer: Explorer) -> None:
    """Called by the entry point on every run, before the page."""
    st.session_state[CONTEXT_KEY] = (source, explorer)


def _look_up() -> tuple[data.Source, Explorer]:
    source = data.active_source()
    return source, data.explorer(source.path, source.mtime)


def start(title: str | Callable[[Selection | None], str], *, needs_quarters: bool = True) -> Context:
    """Title the page; stop with a plain message when there is nothing to show yet."""
    entry.require()
    # What the entry point found for this run (it ran just before the page): no second look-up.
    source, explorer = st.session_state.get(CONTEXT_KEY) or _look_up()
    ctx = Context(source, explorer, st.session_state.get("selection"))
    st.title(title(ctx.sel) if callable(title) else title)
    if needs_quarters and (ctx.sel is None or not ctx.explorer.published(ctx.sel.period)):
        kind = "quarterly" if ctx.sel is None or ctx.sel.period == "quarter" else "annual"
        st.info(f"No {kind} data is loaded yet: add a published file on the Upload data page"
                + ("." if ctx.sel is None else ", or choose the other period type in the sidebar."))
        st.stop()
    return ctx
