"""core.missing (``missing_status``): every empty point of a series has its reason."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from core import missing

DOMAIN = ["2020/21 Q1", "2020/21 Q2", "2020/21 Q3", "2020/21 Q4", "2021/22 Q1"]


def test_each_reason_in_its_place():
    # Series 0: a row each quarter but Q2 (never published); Q3 suppressed.
    # Series 1: rows from Q3 only, the last quarter has no row yet.
    no_rate = np.array([0, 1, 1, 0, 0, 1, 1, 0, 0, 1], dtype=bool)
    suppressed = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
    stored = np.array([1, 0, 1, 1, 1, 0, 0, 1, 1, 0], dtype=bool)
    got = missing.missing_status(DOMAIN, no_rate, suppressed, stored, 2).tolist()
    assert got == ["", "not published", "suppressed", "", "",
                   "before this series began", "not published", "", "", "not yet published"]
    rolled = missing.missing_status(DOMAIN, no_rate, suppressed, stored, 2, rolling=True)
    assert rolled[5] == "before this series began" and rolled[9] == "not yet published"
    # A point between stored ones with no row is "no data" (a window missing it, rolling).
    gap = np.array([0, 0, 1, 0, 0], dtype=bool)
    between = missing.missing_status(DOMAIN, gap, np.zeros(5, bool),
                                     np.array([1, 1, 0, 1, 1], dtype=bool), 1)
    assert between[2] == "no data"
    assert missing.missing_status(DOMAIN, gap, np.zeros(5, bool),
                                  np.array([1, 1, 0, 1, 1], dtype=bool), 1,
                                  rolling=True)[2] == "no complete four quarters"


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), min_size=10,
                max_size=10))
def test_a_point_without_a_value_always_has_a_reason(flags):
    no_rate, suppressed, stored = (np.array(v, dtype=bool) for v in zip(*flags, strict=True))
    got = missing.missing_status(DOMAIN, no_rate, suppressed, stored, 2)
    published = np.tile(np.array(DOMAIN) != "2020/21 Q2", 2)
    assert all(s != "" for s in got[no_rate])
    assert all(s == "" for s in got[~no_rate & published])
    assert set(got) <= {"", *missing.MEANING}


def test_explain_spells_out_reasons_and_never_says_none():
    got = missing.explain(["suppressed", None, float("nan"), "BAME: not published",
                           "A: suppressed; B: no data", "Counts are rounded to the nearest 5."])
    assert got[0] == "suppressed: NHS England published * instead of a count under 5"
    assert got[1] == got[2] == ""
    assert got[3].startswith("BAME: not published (NHS England never published 2020/21 Q2")
    assert got[4].startswith("A: suppressed (") and "; B: no data (nothing published" in got[4]
    assert got[5] == "Counts are rounded to the nearest 5."


def test_gap_notes_name_the_group_without_a_value():
    names = ("BAME", "White British")
    got = missing.gap_notes(np.array(["suppressed", "", "no data", "", ""], dtype=object),
                            np.array(["no data", "not yet published", "no data", "", ""],
                                     dtype=object),
                            np.array([True, True, True, True, False]), names)
    assert got.tolist() == ["BAME: suppressed; White British: no data",
                            "White British: not yet published", "no data", "no data", ""]
