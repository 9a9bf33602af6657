"""What every page starts with: inside the entry point, the data source, the selection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ui import data, entry
from ui.state import Selection


@dataclass(frozen=True)
class Context:
    source: data.Source
    facts: dict
    areas: pd.DataFrame
    sel: Selection | None


CONTEXT_KEY = "_run_context"


def remember(source: data.Source, facts: dict, areas: pd.DataFrame) -> None:
    """Called by the entry point on every run, before the page."""
    st.session_state[CONTEXT_KEY] = (source, facts, areas)


def _look_up() -> tuple[data.Source, dict, pd.DataFrame]:
    source = data.active_source()
    return (source, data.facts(source.path, source.mtime),
            data.choices(source.path, source.mtime).areas)


def start(title: str | Callable[[Selection | None], str], *, needs_quarters: bool = True) -> Context:
    """Title the page; stop with a plain message when there is nothing to show yet."""
    entry.require()
    # What the entry point found for this run (it ran just before the page): no second look-up.
    source, facts, areas = st.session_state.get(CONTEXT_KEY) or _look_up()
    ctx = Context(source, facts, areas, st.session_state.get("selection"))
    st.title(title(ctx.sel) if callable(title) else title)
    if needs_quarters and (ctx.sel is None or not ctx.facts["published_quarters"]):
        st.info("No quarterly data is loaded yet: add a published file on the Upload data page.")
        st.stop()
    return ctx
