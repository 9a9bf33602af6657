"""The server's start-up work (``ui.startup``): what the first visitor no longer waits for."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import streamlit as st

from ui import data as ui_data
from ui import startup

ROOT = Path(__file__).resolve().parents[2]


def test_streamlit_run_serves_the_app_through_its_st_app():
    """``streamlit run streamlit_app.py`` (README, Community Cloud) must find ``app``: without
    it the server starts as before and the first visitor waits for the imports and the store."""
    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(ROOT / "streamlit_app.py")
    assert found.is_asgi_app
    assert found.import_string == "streamlit_app:app"


def test_warm_up_makes_the_first_view_before_anyone_asks():
    st.cache_resource.clear()
    startup.warm_up()
    source = ui_data.shared_source()
    ex = ui_data._shared_explorer(source.path, source.mtime)  # the cached one, not a new one
    made = ex.__dict__.get("_by_boundaries", {})
    # The default geography and its look-ups; the other is left for the idle moments.
    assert set(made) == {ex.default_boundaries}
    view = made[ex.default_boundaries]
    assert {"_slices", "_arrays", "icbs"} <= set(view.__dict__)


def test_the_server_answers_while_the_warm_up_runs():
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(3)
        finished.set()

    entered = []

    async def serve() -> None:
        async with startup.lifespan(None):
            entered.append(finished.is_set())

    original = startup.warm_up
    startup.warm_up = slow
    try:
        # In a thread of its own: a browser test in this worker may leave an event loop
        # running in this one (Playwright's sync API), and asyncio.run refuses to nest.
        server = threading.Thread(target=asyncio.run, args=(serve(),))
        server.start()
        server.join(10)
    finally:
        startup.warm_up = original
        release.set()
    assert started.wait(5)
    assert entered == [False]  # in service before the warm-up finished


def test_a_store_that_cannot_be_read_is_left_to_the_first_visitor(tmp_path, monkeypatch, caplog):
    bad = tmp_path / "recovery.parquet"
    bad.write_bytes(b"not parquet")
    monkeypatch.setattr(ui_data.model, "DEFAULT_STORE", bad)
    st.cache_resource.clear()
    with caplog.at_level(logging.ERROR, logger="ui.startup"):
        startup.warm_up()  # does not raise: the first visitor's run says it in words
    assert "Warming up the app at start failed" in caplog.text
    assert "not a store of this tool" in caplog.text or "damaged" in caplog.text
    assert bad.read_bytes() == b"not parquet"
