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


def start(title: str | Callable[[Selection | None], str], *, needs_quarters: bool = True) -> Context:
    """Title the page; stop with a plain message when there is nothing to show yet."""
    entry.require()
    source = data.active_source()
    ctx = Context(source, data.facts(source.path, source.mtime),
                  data.areas(source.path, source.mtime), st.session_state.get("selection"))
    st.title(title(ctx.sel) if callable(title) else title)
    if needs_quarters and (ctx.sel is None or not ctx.facts["published_quarters"]):
        st.info("No quarterly data is loaded yet: add a published file on the Upload data page.")
        st.stop()
    return ctx
