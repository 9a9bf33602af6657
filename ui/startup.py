"""What the server does once, when it starts, so that its first visitor does not wait for it.

``streamlit run streamlit_app.py`` finds the ``st.App`` at the foot of ``streamlit_app.py``
and serves the app through it; the App's ``lifespan`` starts ``warm_up`` in a background
thread and the server answers at once. While a visitor's browser loads Streamlit's page and
opens its connection, the thread imports what the pages import (pandas, Altair, the app's
modules), reads the bundled store and makes its default view (``ui.data.prepare_first_view``).
Without it the first visitor's first script run did all of that: it took the first page's
first paint to 1.5 times a one-chart Streamlit app's (``bench/browser.py``, README).

A visitor who comes before the thread is done waits for what is left of it, not for all of
it twice: Python imports a module once, the shared cache computes a key once and the
Explorer builds a geography once. Anything failing here is logged and left to the first
visitor's run, which says it in words.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

THREAD = "warm-up"
_LOG = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """``st.App``'s start-up hook: start ``warm_up`` and let the server answer at once."""
    threading.Thread(target=warm_up, name=THREAD, daemon=True).start()
    yield None


def warm_up() -> None:
    """Import the pages' modules and make the shared store's first view (see the module)."""
    _quiet_missing_context()
    try:
        from ui import entry

        # The legacy ``pages/`` mode is switched off before any request can choose it.
        entry.keep_entry_point()
        import core.charts  # noqa: F401
        import core.export  # noqa: F401
        import core.map_chart  # noqa: F401
        import core.preview  # noqa: F401
        from ui import data, page, render, sidebar, state, style  # noqa: F401

        data.prepare_first_view()
    except Exception:  # noqa: BLE001 - the first visitor's run meets it and says it in words
        _LOG.exception("Warming up the app at start failed; the first visitor will wait")


class _NoContextWarning(logging.Filter):
    """Streamlit warns that a thread calling a cached function has no script run; this
    thread has none on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.args and record.args[0] == THREAD)


def _quiet_missing_context() -> None:
    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    if not any(isinstance(f, _NoContextWarning) for f in logger.filters):
        logger.addFilter(_NoContextWarning())
