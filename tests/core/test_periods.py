import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import periods, readers
from core.errors import InputError
from tests.conftest import quarterly_csv, small_quarter


@pytest.mark.parametrize(
    "day,label",
    [
        (dt.date(2024, 4, 1), "2024/25 Q1"),
        (dt.date(2024, 10, 1), "2024/25 Q3"),
        (dt.date(2025, 1, 1), "2024/25 Q4"),
        (dt.date(2025, 3, 31), "2024/25 Q4"),
        (dt.date(2020, 7, 1), "2020/21 Q2"),
        (dt.date(1999, 12, 31), "1999/00 Q3"),
    ],
)
def test_quarter_label(day, label):
    assert periods.quarter_label(day) == label


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31)))
def test_label_round_trip(day):
    start = periods.quarter_start(periods.quarter_label(day))
    assert start <= day <= periods.quarter_end(start)
    assert periods.is_quarter(start, periods.quarter_end(start))


def test_unpublished_quarter_kept_on_the_axis_and_refused_in_a_file(tmp_path):
    """2020/21 Q2 was never published: a time axis still has a place for it (so no line
    bridges it), and a file claiming to hold it is refused at its row, naming the quarter."""
    labels = periods.quarter_range(dt.date(2020, 4, 1), dt.date(2021, 1, 1))
    assert labels == ["2020/21 Q1", "2020/21 Q2", "2020/21 Q3", "2020/21 Q4"]
    path = tmp_path / "nhstalkingtherapies_quarterly_q2_20_21.csv"
    path.write_bytes(quarterly_csv(small_quarter("2020-07-01", "2020-09-30")))
    with pytest.raises(InputError, match=r"2020/21 Q2 was never published") as caught:
        readers.read_file(path, today=dt.date(2026, 11, 26))
    assert "row 2" in str(caught.value)
    # The neighbouring quarters are read.
    # (England and its regions: ICB rows in 2020 would be refused as areas not yet made.)
    path.write_bytes(quarterly_csv([r for r in small_quarter("2020-10-01", "2020-12-31")
                                    if r[8] in ("England", "CommissioningRegion")]))
    assert readers.read_file(path, today=dt.date(2026, 11, 26)).periods == ["2020/21 Q3"]


def test_period_type_and_label():
    assert periods.period_type(dt.date(2024, 4, 1), dt.date(2025, 3, 31)) == "year"
    assert periods.period_label(dt.date(2024, 4, 1), dt.date(2025, 3, 31)) == "2024/25"
    assert periods.period_type(dt.date(2024, 4, 1), dt.date(2024, 6, 30)) == "quarter"
    assert periods.period_type(dt.date(2024, 4, 1), dt.date(2024, 4, 30)) is None


@pytest.mark.parametrize("text", ["2025-10-01", "01/10/2025", "2025-10-01T00:00:00", " 01/10/2025 "])
def test_parse_date_both_forms(text):
    assert periods.parse_date(text) == dt.date(2025, 10, 1)


@pytest.mark.parametrize("text", ["", "yesterday", "2025/10/01", "1/10/25"])
def test_parse_date_rejects(text):
    with pytest.raises(ValueError):
        periods.parse_date(text)


def test_quarter_start_rejects_nonsense():
    with pytest.raises(ValueError):
        periods.quarter_start("2024/25 Q5")
    with pytest.raises(ValueError):
        periods.quarter_start("Q3")


@pytest.mark.parametrize("name,year", [
    ("psych-ther-ann-2024-25-csv.csv", "2024-25"),
    ("annual_2019_20.csv", "2019-20"),
    ("annual_202425.csv", "2024-25"),
    ("annual.csv", None),
    ("annual_2024-26.csv", None),
    ("psych-ther-ann-2023-24-revised-2024-25.csv", None),  # two years: not ours to choose
    ("annual_2024-25_v2_2024-25.csv", "2024-25"),  # one year, twice
])
def test_financial_year_from_name(name, year):
    assert periods.financial_year_from_name(name) == year


@given(st.integers(2000, 2098))
def test_financial_year_start_date_both_separators(first):
    text = f"{first}-{(first + 1) % 100:02d}"
    assert periods.financial_year_start_date(text) == dt.date(first, 4, 1)
    assert periods.financial_year_start_date(text.replace("-", "/")) == dt.date(first, 4, 1)
    with pytest.raises(ValueError, match="must look like 2024-25"):
        periods.financial_year_start_date(f"{first}-{(first + 2) % 100:02d}")
