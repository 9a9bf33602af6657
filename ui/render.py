"""How every chart is shown: chart and table tabs, a text alternative, CSV/PNG/SVG downloads."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, urlencode

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import streamlit as st

from core import charts, export, unusual


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:100].strip("-") or "chart"


#: A chart's small constant datasets (target line, unpublished quarter) as Arrow tables, by
#: name: Altair names an inline dataset by a hash of its values, so a name is its content.
_CONSTANT: dict[str, pa.Table] = {}


def _arrow(name: str, values: object) -> pa.Table:
    if isinstance(values, pa.Table):
        return values
    table = _CONSTANT.get(name)
    if table is None:
        table = _CONSTANT[name] = pa.Table.from_pylist(values)
    return table


def chart(spec: dict, *, alt: str, key: str, on_select: Callable[[], None] | None = None,
          selection: str | None = None) -> object:
    """Draw a chart from its spec, every table dataset handed over as an Arrow table.

    With ``on_select``, a click on the chart's point selection ``selection`` calls it (the
    chart's state is then in ``st.session_state[key]``); returns the chart's state."""
    # Streamlit moves the datasets out of the spec it is given: hand it a shallow copy.
    datasets = {k: _arrow(k, v) for k, v in spec.get("datasets", {}).items()}
    if on_select is None:
        return st.vega_lite_chart({**spec, "datasets": datasets}, theme=None, alt=alt, key=key)
    return st.vega_lite_chart({**spec, "datasets": datasets}, theme=None, alt=alt, key=key,
                              on_select=on_select, selection_mode=selection)


#: What a chart of the synthetic sample's text alternative begins with.
SYNTHETIC_WORDS = "Synthetic sample data, not published statistics:"


def chart_block(
    spec: dict,
    *,
    table: pd.DataFrame | pa.Table,
    csv: pd.DataFrame | Callable[[], pd.DataFrame],
    description: str,
    name: str,
    note: str | None = None,
    blank: str | None = "–",
    on_select: Callable[[], None] | None = None,
    selection: str | None = None,
    narrow: bool = False,
) -> None:
    """A chart with its table, a visible text description, and the three downloads.

    ``table`` is what a person reads (columns in words); ``csv`` is the tidy export, or a
    function that makes it when the button is pressed. Values are shown through Streamlit's
    components, never as HTML, so text from a file cannot inject markup. ``blank``: what an
    empty cell of the table shows (see ``dataframe``). ``on_select`` and ``selection``: see
    ``chart`` (the chart's key is ``chart-`` and the slug of ``name``). ``narrow``: the
    block is in half the page (the map), so the data download gets a row of its own (three
    buttons side by side cut "Download data (CSV)" at 1400 px; a helper's review).
    """
    key = slug(name)
    if charts.says_synthetic(spec):
        description = f"{SYNTHETIC_WORDS} {description}"
    tab_chart, tab_table = st.tabs(["Chart", "Table"])
    with tab_chart:
        chart(spec, alt=description, key=f"chart-{key}", on_select=on_select,
              selection=selection)
        # Descriptions carry area and group names from data files: escape them for Markdown.
        st.caption("Description: " + md(description))
    with tab_table:
        dataframe(table, key=f"table-{key}", blank=blank)
    if note:
        st.caption(note)
    if narrow:
        c1, (c2, c3) = st.container(), st.columns(2)
    else:
        c1, c2, c3 = st.columns(3)
    c1.download_button(
        "Download data (CSV)", lambda: export.to_csv(csv() if callable(csv) else csv),
        file_name=f"{key}.csv", mime="text/csv", key=f"csv-{key}", on_click="ignore",
        icon=":material/download:",
    )
    c2.download_button(
        "Chart as PNG", lambda: charts.to_image(spec, "png"), file_name=f"{key}.png",
        mime="image/png", key=f"png-{key}", on_click="ignore", icon=":material/image:",
    )
    c3.download_button(
        "Chart as SVG", lambda: charts.to_image(spec, "svg"), file_name=f"{key}.svg",
        mime="image/svg+xml", key=f"svg-{key}", on_click="ignore", icon=":material/image:",
    )


def neutral(table: pd.DataFrame | pa.Table) -> pd.DataFrame | pa.Table:
    """The table with text a spreadsheet would run as a formula prefixed with ``'``, as every
    CSV export does (``export.neutralise``): the table's own toolbar offers "Download as CSV",
    which exports exactly what is displayed. A table with no such text is returned as it is;
    an Arrow table already checked (``export.neutral_table``, as every cached view's is) is
    not checked again on each rerun."""
    if isinstance(table, pd.DataFrame):
        return export.neutralise(table)
    return export.neutral_table(table)


def dataframe(table: pd.DataFrame | pa.Table, blank: str | None = "–",
              **kwargs: object) -> None:
    """``st.dataframe`` for a table whose text may come from a file: formula text neutralised
    (see ``neutral``), no index. An empty cell shows ``blank`` instead of Streamlit's "None"
    (the table's own columns say why a value is missing). Percentages held to one decimal
    place show it ("49.0", not "49", beside "49.3")."""
    config = {**{name: st.column_config.Column(width=width)
                 for name, width in text_widths(table).items()},
              **{name: st.column_config.NumberColumn(format="%.1f")
                 for name in one_decimal_percentages(table)},
              # Counts with a thousands separator ("263,295"), as the texts write them.
              **{name: st.column_config.NumberColumn(format="localized")
                 for name in whole_number_columns(table)},
              **(kwargs.pop("column_config", None) or {})}  # the caller's own come first
    st.dataframe(neutral(table), hide_index=True, placeholder=blank,
                 **({"column_config": config} if config else {}), **kwargs)


#: Characters beyond which a text column is given a width: left to size itself, an area's
#: name showed as "NHS Bedf" and a region as "Londo" at 1400 px (a helper's review).
LONG_TEXT = 12
#: Pixels per character and for the cell's padding, generous for the table's font: a
#: column of short text ("Whole population") is given what it needs, not "medium" (200
#: px), which on a phone pushed the rate beside it off the screen (review, 2026-11-28).
CHAR_PX, PAD_PX = 8, 24


def text_widths(table: pd.DataFrame | pa.Table) -> dict[str, int | str]:
    """The text columns holding a value longer than ``LONG_TEXT`` characters, each with its
    width: what its longest value and its header need, and "medium" (200 px) beyond that."""
    widths = {}
    for name, longest in _longest_texts(table).items():
        if longest > LONG_TEXT:
            px = int(CHAR_PX * max(longest, len(str(name))) + PAD_PX)
            widths[name] = px if px < 200 else "medium"
    return widths


def _longest_texts(table: pd.DataFrame | pa.Table) -> dict[str, int]:
    if isinstance(table, pa.Table):
        return {f.name: (pc.max(pc.utf8_length(table[f.name])).as_py() or 0)
                if len(table[f.name]) else 0 for f in table.schema
                if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)}
    return {str(c): (table[c].map(lambda v: len(v) if isinstance(v, str) else 0).max()
                     if len(table) else 0) for c in table.columns
            if pd.api.types.is_string_dtype(table[c]) or table[c].dtype == object}


def whole_number_columns(table: pd.DataFrame | pa.Table) -> list[str]:
    """The integer columns (counts: no table holds a year or a code as a number)."""
    if isinstance(table, pa.Table):
        return [f.name for f in table.schema if pa.types.is_integer(f.type)]
    return [str(c) for c in table.columns if pd.api.types.is_integer_dtype(table[c])]


def one_decimal_percentages(table: pd.DataFrame | pa.Table) -> list[str]:
    """The float columns named as percentages ("... (%)") whose values all have at most one
    decimal place, other than NHS England's published ones: shown with exactly one (a column
    rounded to two keeps Streamlit's own)."""
    names = []
    for name in table.column_names if isinstance(table, pa.Table) else table.columns:
        # NHS England's own percentages below England level are whole numbers: shown as
        # published ("53", never "53.0", a precision it did not give).
        if "(%)" not in str(name) or str(name).startswith("Published"):
            continue
        column = table[name]
        values = (column.to_numpy(zero_copy_only=False) if isinstance(column, pa.ChunkedArray)
                  else column.to_numpy())
        if values.dtype.kind != "f":
            continue
        tenths = values[np.isfinite(values)] * 10
        if np.allclose(tenths, np.round(tenths), rtol=0, atol=1e-6):
            names.append(name)
    return names


def share_link(params: dict[str, str], page: str) -> None:
    """Show the link that reopens this exact view, as a link a visitor can open, copy (right
    click, or a long press on a phone) or select as text.

    Not ``st.code``: its copy button brings Streamlit's syntax highlighter, whose script took
    0.6-1 s of the browser's first paint of every page (``bench/browser.py``)."""
    query = urlencode(params)
    try:
        base = (st.context.url or "").split("?")[0]
    except Exception:  # no browser (AppTest)
        base = ""
    # The query is percent-encoded by urlencode; the page's own address is quoted so that no
    # character of it can end the Markdown link ("( ) < > [ ] \\ & ; '", spaces, quotes),
    # keeping what a path may hold as it is (Community Cloud serves apps under /~/+/).
    url = f"{quote(base, safe=':/%-._~+@!$*,=') or '/' + page}?{query}"
    st.caption("Link to this view: it reopens this page with every choice in the sidebar "
               "(the address bar holds the same link).")
    with st.container(key="share_link"):
        # The text is the address itself, escaped but without md()'s word joiners: copied as
        # text it must work as a link (an invisible U+2060 after "http:" broke it, a
        # helper's review). The address is this app's own, so it needs no defusing.
        text = _MD_SPECIAL.sub(r"\\\1", url)
        st.markdown(f"[{text}]({url})")


#: Every ASCII punctuation character: CommonMark lets a backslash escape any of them, and with
#: all of them escaped no Markdown construct can start (emphasis, code, links and autolinks
#: such as ``https://``, ``www.`` and e-mail addresses, HTML and entities, headings, lists,
#: tables, strikethrough, Streamlit's ``:colour[...]``, ``:emoji:`` and ``$maths$``).
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
#: Line breaks (a newline followed by ``===`` makes a heading) and tabs become spaces.
_MD_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")


#: Where GitHub's autolinks start (``http://``, ``www.``, an e-mail's ``@``). Streamlit's
#: renderer finds them in the text after escapes are undone, so a backslash does not stop
#: them (a bare ``http://evil.example`` in an area name became a link on the Upload page,
#: review 2026-11-28): an invisible word joiner (U+2060) inside each breaks the pattern.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def md(text: object) -> str:
    """Escape text from a data file for Markdown, so it shows as typed on one line: never a
    link, a heading or HTML. Leading spaces are dropped (four would start a code block)."""
    one_line = _AUTOLINK.sub(WORD_JOINER, _MD_BREAKS.sub(" ", str(text)).lstrip(" "))
    return _MD_SPECIAL.sub(r"\\\1", one_line)


#: Streamlit cuts a multiselect's chips to one line ("England: Whole po…"): let them wrap, so
#: a chosen comparison is always read in full. Constant CSS, no value from any file.
_WRAP_CHIPS = """<style>
[data-testid="stMultiSelectTagsContainer"] [data-tag] {height: auto; min-height: 1.5rem;
  max-width: 100%; padding-top: 0.125rem; padding-bottom: 0.125rem;}
[data-testid="stMultiSelectTagsContainer"] [data-tag] > span {white-space: normal;
  overflow: visible; text-overflow: clip; overflow-wrap: anywhere; line-height: 1.25;}
</style>"""


def wrap_chips() -> None:
    """Let the chips of the page's multiselects wrap instead of being cut."""
    st.html(_WRAP_CHIPS)


#: What the target verdict means, under the headline.
TARGET_HELP = ("By the 95% confidence interval: meets the target if its lower limit is at least "
               "50%, below it if its upper limit is under 50%.")


def headline(h: dict) -> None:
    """Latest value with the verdict against the target, the change on a year earlier with
    the recent trend, and the BAME − White British gap with its interval and verdicts.

    Figures are metrics; verdicts are sentences under them, which wrap (a metric's value is
    cut at the column's width: "Meets the ta…")."""
    if not h:
        return
    c1, c2, c3 = st.columns(3)
    # The change sits under the value it changed to ("+0.1 points on 2023/24"): under the
    # earlier figure it read as that year's own rise (review, 2026-11-28).
    change_help = h.get("change_help") or ("The change on the same period a year before, in "
                                           "percentage points.")
    c1.metric(f"{h['label']}, {h['period']}", h["value"],
              delta=(f"{h['delta']} on {h['earlier_period']}" if h.get("delta") else None),
              # Coloured only when the change is significant (core.headlines.change).
              delta_color=h.get("delta_color", "normal"),
              help=f"{h['interval']}\n\n{change_help}" if h["interval"] else change_help)
    target = (f"Against the 50% target: **{h['verdict'].lower()}**" if h["verdict"] !=
              "Not applicable" else "Against the 50% target: not applicable (the target is "
              "for the recovery rate)")
    c1.markdown(target, help=TARGET_HELP)
    c2.metric(f"A year earlier ({h['earlier_period']})" if h.get("earlier_period") else
              "A year earlier", h["change"] or "no data",
              help="The same period a year before; the change on it is under the figure to "
              "the left.")
    c2.markdown(f"{h.get('trend_label', 'Recent trend')}: "
                f"**{h.get('trend') or 'could not be calculated'}**",
                help=h.get("trend_help"))
    gap = h.get("gap")
    if gap:
        c3.metric(gap["label"], gap["value"], help=gap["help"])
        c3.markdown(_gap_words(gap), help=gap["help"])


def _gap_words(gap: dict) -> str:
    """The gap's verdict, interval and trend in one sentence (``headlines.gap_headline``)."""
    head, _, rest = gap["verdict"].partition(": ")
    interval = f" ({gap['interval']})" if gap["interval"] else ""
    return (f"**{head}**: {rest}{interval}. {gap['trend_when']}: **{gap['trend']}**"
            f"{gap['trend_reason']}.")


def gap_answer(gap: dict) -> None:
    """The BAME − White British gap as a page's first answer: the gap in points (a metric,
    its help the methods), then its 95% interval, the verdict and whether it is widening in
    words, which wrap at any width (a metric cuts its value at the column's width).

    ``gap`` is ``headlines.gap_headline``'s dict, the one the trends page's ``headline``
    shows in its third column, in the same words."""
    if not gap:
        return
    figure, words = st.columns([2, 3], vertical_alignment="center")
    figure.metric(gap["label"], gap["value"], help=gap["help"])
    words.markdown(_gap_words(gap))


def cautions(said: list[tuple[str, str]]) -> None:
    """Published figures too unusual to take on trust (``core.unusual.cautions``): a warning
    above the chart, one line per area, the advice once."""
    lines = "\n".join(f"- {md(name)}, {md(fact)}." for name, fact in said)
    advice = unusual.ADVICE.format(it="it" if len(said) == 1 else "them")
    st.warning(f"**{unusual.CAUTION}**\n\n{lines}\n\n{advice}", icon=":material/warning:")
