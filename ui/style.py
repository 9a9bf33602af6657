"""The few style rules and one small script that Streamlit's own options cannot give. Both
are constants: no value from a file or a URL is ever written into them.

On a phone Streamlit tucks the sidebar, where every choice lives, behind an unlabelled "»"
icon. The rule below gives that button a visible label, so the primary choices (area,
population, period) are one obvious, labelled tap away. The label is CSS text on Streamlit's
own button (``stExpandSidebarButton``), so nothing is drawn when the sidebar is open. CSS text
is not the button's accessible name, and Streamlit 1.67 hard-codes that as "Expand sidebar"
(no option changes it), so the script sets ``aria-label`` to the same words: what a screen
reader says is what the eye reads.

The trends page answers at ``/`` (the menu's item) and, for links, at ``/recovery`` and
``/trends``; Streamlit marks the menu item as the current page only at ``/``. A redirect would
add a history entry that Back returns to and is sent on from, so Back could never leave the
page; instead the script marks "Recovery over time" as the current page (``aria-current``) at
those two addresses, and the rule draws it as Streamlit draws the current item.

The browser tests ``test_phone_choices_one_labelled_tap_away``,
``test_menu_button_is_named_as_it_reads`` and ``test_trends_addresses_mark_the_menu_item``
fail if a Streamlit release renames what this relies on.
"""

from __future__ import annotations

import json

import streamlit as st

LABEL = "Menu: area, population, period"
#: The trends page's addresses besides the app's root (hidden pages in ``streamlit_app``).
ALIASES = ("recovery", "trends")
#: The marker of a menu link this script made current.
_MARK = "data-trends-alias"

_CSS = f"""
<style>
[data-testid="stExpandSidebarButton"] {{
  width: auto; padding: 0.25rem 0.6rem 0.25rem 0.25rem; gap: 0.3rem;
  border: 1px solid rgba(49, 51, 63, 0.35); border-radius: 0.5rem;
}}
[data-testid="stExpandSidebarButton"]::after {{
  content: "{LABEL}"; font-size: 0.9rem; line-height: 1.2; white-space: nowrap;
}}
/* As Streamlit draws the current page's menu item (measured in 1.67, this theme). */
[data-testid="stSidebarNavLink"][{_MARK}] {{
  background-color: rgba(160, 187, 187, 0.25); color: rgb(35, 31, 32); font-weight: 600;
}}
[data-testid="stSidebarNavLink"][{_MARK}] * {{ color: rgb(35, 31, 32); font-weight: 600; }}
/* The share link is one long word: break it anywhere rather than run off a phone. */
.st-key-share_link a {{ overflow-wrap: anywhere; word-break: break-all; }}
/* The script's own element takes no room. */
[data-testid="stElementContainer"]:has(.app-a11y-script) {{ display: none; }}
</style>
"""

_SCRIPT = f"""
<span class="app-a11y-script"></span>
<script>
(() => {{
  if (window.appA11yInstalled) return;
  window.appA11yInstalled = true;
  const label = {json.dumps(LABEL)};
  const aliases = {json.dumps(list(ALIASES))};
  const mark = {json.dumps(_MARK)};
  const fix = () => {{
    const button = document.querySelector('[data-testid="stExpandSidebarButton"]');
    if (button && button.getAttribute('aria-label') !== label)
      button.setAttribute('aria-label', label);
    const last = window.location.pathname.replace(/\\/+$/, '').split('/').pop();
    const alias = aliases.includes(last);
    const links = [...document.querySelectorAll('[data-testid="stSidebarNavLink"]')];
    // The app's root: the address without the alias (the menu's link to the trends page).
    const root = alias ? window.location.pathname.replace(/\\/[^\\/]*\\/*$/, '/') : null;
    for (const a of links) {{
      const home = alias && new URL(a.href).pathname === root;
      if (home) {{
        if (!a.hasAttribute(mark)) a.setAttribute(mark, '');
        if (a.getAttribute('aria-current') !== 'page') a.setAttribute('aria-current', 'page');
      }} else if (a.hasAttribute(mark)) {{
        a.removeAttribute(mark);
        // Streamlit's own mark stays where it put it (the link to this very address).
        if (new URL(a.href).pathname !== window.location.pathname)
          a.removeAttribute('aria-current');
      }}
    }}
  }};
  new MutationObserver(fix).observe(document.body, {{
    childList: true, subtree: true, attributes: true,
    attributeFilter: ['aria-label', 'aria-current']}});
  window.addEventListener('popstate', fix);
  fix();
}})();
</script>
"""


def apply() -> None:
    """Called once per run by the entry point."""
    st.html(_CSS)
    st.html(_SCRIPT, unsafe_allow_javascript=True)
