"""Figures that could not be true refuse the file at their row (core.plausible): a part of
England counting more people than England, and areas that did not exist in the file's
period, the sign of a wrong year."""

import datetime as dt

import pytest

from core import plausible, readers
from core.errors import InputError
from tests.conftest import HEADER, annual_frames, quarterly_csv, small_quarter

TODAY = dt.date(2026, 11, 26)


def read(data: bytes, name: str = "q.csv", **kw):
    return readers.read_file(data, name, today=TODAY, **kw)


def with_value(rows, code: str, group: str, measure: str, value: str):
    for r in rows:
        if (r[2], r[10], r[12]) == (code, group, measure) and r[4] == "All_SubICB":
            r[14] = value
    return rows


def line_of(rows, code: str, group: str, measure: str) -> int:
    return next(i for i, r in enumerate(rows, start=2)
                if (r[2], r[10], r[12]) == (code, group, measure) and r[4] == "All_SubICB")


def test_an_icb_counting_more_than_england_is_refused_at_its_row():
    rows = with_value(small_quarter(), "QF7", "Total", "M076", "900000")
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows))
    assert e.value.row == line_of(rows, "QF7", "Total", "M076")
    assert e.value.message.startswith(
        "finished a course of treatment for ICB QF7, Whole population (900,000) is more than "
        "England's (170,000) for the same period and group")


def test_rounding_to_5_below_england_is_not_taken_for_more_than_england():
    # England's BME group finished 30,000; an ICB's count rounded up may pass it by 2.
    def rows_with(bme: int):
        rows = with_value(small_quarter(), "Y63", "Total", "M076", "50000")
        rows = with_value(rows, "QHM", "Total", "M076", "40000")
        return with_value(rows, "QHM", "BME", "M076", str(bme))
    assert read(quarterly_csv(rows_with(30000 + plausible.ROUNDING))).frame["finished"].max() \
        == 170000
    rows = rows_with(30001 + plausible.ROUNDING)
    with pytest.raises(InputError, match=r"ICB QHM, Black, Asian .* is more than England's \(30,000\)"):
        read(quarterly_csv(rows))


def test_icb_rows_before_july_2022_are_refused_as_a_wrong_period():
    rows = small_quarter("2021-10-01", "2021-12-31")
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows))
    first_icb = next(i for i, r in enumerate(rows, start=2) if r[8] == "ICB")
    assert e.value.row == first_icb
    assert "has ICB rows (such as QHM NHS NORTH EAST AND NORTH CUMBRIA INTEGRATED CARE " \
        "BOARD) for 2021/22 Q3, which ended before ICBs" in e.value.message
    assert "Is the period right?" in e.value.message


def test_ccg_rows_after_july_2022_are_refused_as_a_wrong_period():
    header = [{"ICB": "STP", "ICBName": "STPName", "SubICB": "CCG", "SubICBName": "CCGName"}
              .get(h, h) for h in HEADER]
    rows = small_quarter("2022-07-01", "2022-09-30")
    for row in rows:
        row[8] = {"ICB": "STP", "SubICB": "CCG"}.get(row[8], row[8])
    with pytest.raises(InputError, match=r"has STP rows .* for 2022/23 Q2, which began after "
                       r"CCGs and STPs were replaced"):
        read(quarterly_csv(rows, header))
    # The quarter before is CCG and STP, as published.
    for row in rows:
        row[0], row[1] = "2022-04-01", "2022-06-30"
    assert set(read(quarterly_csv(rows, header)).frame["level"]) >= {"STP", "CCG"}


def test_an_annual_file_given_the_wrong_year_is_refused_both_ways(tmp_path):
    frames = annual_frames()  # the real published figures (skips without ../shared)
    for year, given, level in (("2024-25", "2017-18", "ICB"), ("2017-18", "2023-24", "CCG")):
        path = tmp_path / "annual.csv"
        frames[year].to_csv(path, index=False)
        with pytest.raises(InputError, match=f"has {level} rows .* for "
                           f"{given.replace('-', '/')}, which"):
            read(path.read_bytes(), "annual.csv", period=given)
        assert read(path.read_bytes(), "annual.csv", period=year).periods == [
            year.replace("-", "/")]


def test_published_percentages_that_counts_do_not_give_are_warned_of():
    """Swapped percentage measures (M192 labelled M195 and back): the counts pass every
    check, so the file loads, with a warning naming the row and both figures."""
    assert read(quarterly_csv(small_quarter())).layout_warnings == []
    rows = small_quarter()
    swap = {"M192": ("M195", "Percentage_ReliableRecovery"),
            "M195": ("M192", "Percentage_Recovery")}
    for r in rows:
        r[12], r[13] = swap.get(r[12], (r[12], r[13]))
    said = read(quarterly_csv(rows)).layout_warnings
    assert len(said) == 2, said
    assert said[0].startswith("Warning: the published recovery percentage for England "
                              "(2025/26 Q3, Whole population) is 47.2%, but its counts give "
                              "50.3%")
    assert "the product uses the counts" in said[1]


@pytest.mark.parametrize("mark", ["", "*"])
def test_a_blank_or_suppressed_england_count_is_refused(mark):
    """A re-issued quarter with its values blanked replaced every stored number with nothing
    (found by a hostile-file review): England's counts are never suppressed."""
    rows = small_quarter()
    for r in rows:
        if r[8] == "England" and r[12] == "M076" and r[10] == "Total":
            r[14] = mark
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows))
    assert "England's finished count is blank or suppressed" in e.value.message
    assert e.value.row == 2


def test_a_group_counting_more_than_its_areas_whole_population_is_refused():
    """Parts were only checked against England (a helper's review): an ICB's BME count five
    times its whole population was stored. (Every real annual file, read in
    test_real_annual.py, passes these checks.)"""
    rows = with_value(small_quarter(), "QHM", "BME", "M076", "5000")
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows))
    assert e.value.row == line_of(rows, "QHM", "BME", "M076")
    assert e.value.message.startswith(
        "finished a course of treatment for ICB QHM, Black, Asian and minority ethnic (BAME) "
        "(5,000) is more than its whole population's (1,000) for the same period and area")
    # Rounding keeps order, and a group's count equal to the whole population's is possible.
    rows = with_value(small_quarter(), "QHM", "BME", "M076", "1000")
    assert read(quarterly_csv(rows)).frame.query("area_code == 'QHM' and group == 'BME'")[
        "finished"].item() == 1000


def test_a_sub_icb_counting_more_than_its_icb_is_refused():
    rows = small_quarter()
    for r in rows:
        if r[8] == "SubICB" and r[12] == "M076":
            r[14] = "20000"
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows))
    assert e.value.row == next(i for i, r in enumerate(rows, start=2)
                               if r[8] == "SubICB" and r[12] == "M076")
    assert ("SubICB 00L, Whole population (20,000) is more than its ICB QHM's (1,000) for the "
            "same period and group") in e.value.message


def test_a_piece_of_another_quarter_in_a_file_is_refused():
    """Six rows of one ICB for another quarter (pasted in, or two files joined with cat) were
    stored as a quarter of their own, with no England row (found by a helper's review)."""
    rows = small_quarter()
    stray = [r[:] for r in rows if r[2] == "QF7"]
    for r in stray:
        r[0], r[1] = "2025-07-01", "2025-09-30"
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows + stray))
    assert e.value.row == len(rows) + 2
    assert e.value.message.startswith(
        "the file holds 2025/26 Q2 in 1 area and group row with no England row, beside "
        "2025/26 Q3 in 10 area and group rows: a piece of another period's file")
    # With England but a fraction of the rows: still a piece.
    piece = [r[:] for r in rows if r[8] in ("England", "ICB") and r[10] == "Total"]
    for r in piece:
        r[0], r[1] = "2025-07-01", "2025-09-30"
    with pytest.raises(InputError, match="2025/26 Q2 in 3 area and group rows, beside"):
        read(quarterly_csv(rows + piece))
    # A whole quarter with most of another (England included): a level is short.
    most = [r[:] for r in rows if r[8] != "SubICB"]
    for r in most:
        r[0], r[1] = "2025-07-01", "2025-09-30"
    with pytest.raises(InputError, match="2025/26 Q2 with 0 area and group rows at SubICB level, "
                                         "beside 2025/26 Q3 with 1"):
        read(quarterly_csv(rows + most))
    # Two whole quarters in one file are read.
    both = small_quarter("2025-07-01", "2025-09-30") + rows
    assert read(quarterly_csv(both)).frame["period"].nunique() == 2


def test_a_region_abolished_in_2019_is_refused_in_a_later_period():
    """Y54 in a 2025/26 file was set apart as a former region and the file then refused for
    having 'no Region rows at all' (a helper's review): the code itself is what is wrong."""
    rows = small_quarter()
    for r in rows:
        if r[2] == "Y63":
            r[2] = "Y54"
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows))
    assert e.value.row == next(i for i, r in enumerate(rows, start=2) if r[2] == "Y54")
    assert "the file has former NHS region rows (such as Y54 North of England" in e.value.message
    assert "after the seven NHS regions replaced the older ones on 1 April 2019" in e.value.message


def test_an_icb_counting_more_than_its_region_is_refused():
    """The region comes from the reference tables, as files rarely give it (a helper's second
    review: QF7 counting 60,000 under a region of 25,000 was stored)."""
    rows = small_quarter()
    for r in rows:
        if r[2] == "QF7" and r[8] == "ICB":
            r[14] = {"M076": "60000", "M179": "3000", "M191": "28000",
                     "M193": "27000"}.get(r[12], r[14])
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows))
    assert e.value.row == line_of(rows, "QF7", "Total", "M076")
    assert ("ICB QF7, Whole population (60,000) is more than its region Y63's (25,000) for "
            "the same period and group") in e.value.message
