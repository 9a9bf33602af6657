"""AppTest setup.

With Streamlit 1.67, AppTest resets ``PagesManager.uses_pages_directory`` to None before each
run, and the PagesManager constructor then sets it True because a ``pages/`` folder sits beside
the entry point. The script runner then takes the legacy multipage path and runs a page file
directly, skipping ``streamlit_app.py`` and its sidebar. The real server is not affected
(``st.navigation`` sets the flag False). Here the constructor is wrapped so the flag stays
False during AppTest runs, which is what the real server does.
"""

from __future__ import annotations

import pytest
from streamlit.runtime import pages_manager
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")


@pytest.fixture(autouse=True)
def no_legacy_pages_dir(monkeypatch):
    original = pages_manager.PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        pages_manager.PagesManager.uses_pages_directory = False

    monkeypatch.setattr(pages_manager.PagesManager, "__init__", init)
    yield


def app(query: dict[str, str] | None = None, secrets: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if query:
        for k, v in query.items():
            at.query_params[k] = v
    if secrets:
        at.secrets.update(secrets) if hasattr(at.secrets, "update") else None
        for k, v in secrets.items():
            at.secrets[k] = v
    return at


def chart_specs(at: AppTest) -> list[tuple[dict, dict]]:
    """(Vega-Lite spec, {dataset name: DataFrame}) for every chart on the page."""
    import json

    import pyarrow as pa

    out = []
    for el in at.get("vega_lite_chart"):
        proto = el.proto
        frames = {}
        for ds in proto.datasets:
            try:
                frames[ds.name] = pa.ipc.open_stream(ds.data.data).read_all().to_pandas()
            except Exception:  # noqa: BLE001 - a dataset in another encoding
                frames[ds.name] = None
        out.append((json.loads(proto.spec), frames))
    return out


def all_text(at: AppTest) -> str:
    """Every piece of text the page shows (for checks that a value never appears)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "warning", "info",
                 "error", "success", "code", "text"):
        parts += [str(getattr(e, "value", "")) for e in at.get(kind)]
    for kind in ("selectbox", "multiselect", "radio"):
        for w in at.get(kind):
            parts.append(str(w.label))
            parts.append(str(getattr(w, "value", "")))
    return "\n".join(parts)
