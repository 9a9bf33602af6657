"""AppTest setup.

With Streamlit 1.67, AppTest would take the legacy ``pages/`` path and run a page file on its
own, skipping ``streamlit_app.py`` and its sidebar; ``ui.entry.keep_entry_point`` (the one
place that patches Streamlit for this) makes it run the entry point, as the real server does.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from ui.entry import keep_entry_point

APP = str(ROOT / "streamlit_app.py")
keep_entry_point()


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
            value = getattr(w, "value", "")
            # A selectbox with nothing chosen shows its placeholder, not "None".
            parts.append(str(w.proto.placeholder if value is None and kind == "selectbox"
                             else value))
    return "\n".join(parts)


def share_link(at: AppTest) -> str:
    """The address of the page's "Link to this view" (``ui.render.share_link``): the target of
    the last Markdown link in the share-link container."""
    import re

    links = [m for e in at.get("markdown")
             for m in re.findall(r"\]\(([^()\s]*\?[^()\s]*)\)$", str(e.value))]
    assert links, "no share link on the page"
    return links[-1]
