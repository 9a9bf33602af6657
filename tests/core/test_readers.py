import csv
import datetime as dt
import gzip
import io
import zipfile

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import geography, readers, scan, sources
from core.errors import InputError, YearError
from tests.conftest import HEADER, REAL, area_rows, needs_shared, quarterly_csv, small_quarter

TODAY = dt.date(2026, 11, 26)


def read(data: bytes, name: str = "q.csv", **kw):
    return readers.read_file(data, name, today=TODAY, **kw)


def test_reads_quarterly_csv(small_csv):
    r = readers.read_file(small_csv, today=TODAY)
    f = r.frame
    assert r.periods == ["2025/26 Q3"]
    assert set(f["level"]) == {"England", "Region", "ICB", "SubICB"}
    eng = f[(f["level"] == "England") & (f["group"] == "Total")].iloc[0]
    assert eng["area_code"] == "ENG" and eng["finished"] == 170000
    assert eng["published_recovery"] == 50.3 and eng["period_type"] == "quarter"
    icb = f[(f["area_code"] == "QHM") & (f["group"] == "Total")].iloc[0]
    assert icb["parent_code"] == "Y63"  # from the project's ICB → region reference table
    sub = f[f["level"] == "SubICB"].iloc[0]
    assert sub["parent_code"] == "QHM" and sub["area_code"] == "00L"
    assert r.rows_read == len(small_quarter())


def test_suppressed_count_is_null_and_flagged(small_csv):
    f = readers.read_file(small_csv, today=TODAY).frame
    indian = f[f["group"] == "Indian"].iloc[0]
    assert pd.isna(indian["not_at_caseness"]) and indian["suppressed"]
    assert indian["breakdown"] == "Ethnic Group (detailed)"
    assert indian["group_parent"] == "Asian or Asian British"


def test_broad_group_summed_from_detailed_when_absent(small_csv):
    r = readers.read_file(small_csv, today=TODAY)
    broad = r.frame[(r.frame["breakdown"] == "Ethnic Group")].iloc[0]
    assert broad["group"] == "Asian or Asian British"
    assert broad["finished"] == 70 and broad["recovered"] == 30
    assert broad["suppressed"]  # a part (Indian not-at-caseness) was suppressed
    assert r.derived_groups == 1


def test_dd_mm_yyyy_dates_and_old_measure_names():
    rows = small_quarter(start="01/04/2026", end="30/06/2026")
    header = [h for h in HEADER if h != "MEASURE_ID"]
    old = {"M076": "FinishedCourseTreatment", "M179": "NotCaseness", "M191": "Recovery",
           "M192": "RecoveryRate", "M193": "ReliableRecovery", "M195": "ReliableRecoveryRate"}
    legacy = [r[:12] + [old[r[12]], r[14]] for r in rows]
    r = read(quarterly_csv(legacy, header))
    assert r.periods == ["2026/27 Q1"]
    assert r.frame["recovered"].notna().sum() > 5


def test_stp_and_ccg_rows_keep_their_own_levels():
    """Issue 10: STPs and CCGs are not the ICBs and sub-ICB locations that replaced them."""
    rows = small_quarter(start="2021-04-01", end="2021-06-30")
    header = [{"ICB": "STP", "ICBName": "STPName", "SubICB": "CCG", "SubICBName": "CCGName"}.get(h, h)
              for h in HEADER]
    for row in rows:
        row[8] = {"ICB": "STP", "SubICB": "CCG"}.get(row[8], row[8])
    f = read(quarterly_csv(rows, header)).frame
    assert set(f["level"]) == {"England", "Region", "STP", "CCG"}
    ccg = f[f["level"] == "CCG"].iloc[0]
    assert ccg["area_code"] == "00L" and ccg["parent_code"] == "QHM"
    assert set(f.loc[f["level"] == "STP", "area_code"]) == {"QHM", "QF7"}


def test_case_and_whitespace_normalised():
    rows = area_rows(vtype=" bme group ", va="bme", vb="NULL")
    for row in rows:
        row[12] = " " + row[12].lower()
        row[8] = "icb"
    f = read(quarterly_csv(rows)).frame
    assert f.iloc[0]["group"] == "BME" and f.iloc[0]["recovered"] == 480


def test_other_measures_and_breakdowns_dropped():
    rows = area_rows() + area_rows(vtype="Age", va="18-25")
    extra = list(rows[0])
    extra[12], extra[13] = "M001", "Count_ReferralsReceived"
    r = read(quarterly_csv(rows + [extra]))
    assert len(r.frame) == 1 and r.rows_read == 13 and r.rows_kept == 6


def test_utf8_bom_and_windows_1252():
    rows = area_rows(name="NHS CAFÉ ICB")
    r = read(b"\xef\xbb\xbf" + quarterly_csv(rows))
    assert r.frame.iloc[0]["area_name"] == "NHS CAFÉ ICB"
    r = read(quarterly_csv(rows, encoding="windows-1252"))
    assert r.frame.iloc[0]["area_name"] == "NHS CAFÉ ICB" and r.encoding == "windows-1252"


def test_exact_duplicate_rows_ignored_conflicting_refused():
    rows = area_rows()
    r = read(quarterly_csv(rows + rows[:2]))
    assert r.duplicate_rows == 2 and len(r.frame) == 1
    clash = list(rows[0])
    clash[14] = "999"
    with pytest.raises(InputError, match="two different values") as e:
        read(quarterly_csv(rows + [clash]))
    assert e.value.row == 2


# --- real rows ---------------------------------------------------------------------------


@needs_shared()
@pytest.mark.parametrize("name", ["quarterly_icb_subicb_2025-26-q3_rows.csv",
                                  "quarterly_icb_subicb_2026-27-q1_rows.csv"])
def test_real_rows_header_accepted_but_no_recovery_measures(name):
    # The real sample rows are referrals (M001) and contact time only: the reader must accept
    # the layout and then say plainly that the recovery measures are absent.
    with pytest.raises(InputError, match="no recovery measures found"):
        readers.read_file(REAL / name, today=TODAY)


@needs_shared()
def test_real_rows_with_recovery_measures():
    """The real 2026/27 Q1 rows, re-labelled as recovery measures, read as published."""
    with open(REAL / "quarterly_icb_subicb_2026-27-q1_rows.csv", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    out = []
    for row in body:
        for mid, name, value in (("M076", "Count_FinishedCourseTreatment", "2000"),
                                 ("M179", "Count_NotAtCaseness", "100"),
                                 ("M191", "Count_Recovery", "950")):
            out.append(row[:12] + [mid, name, value])
    r = read(quarterly_csv(out, header), "real.csv")
    f = r.frame
    assert r.periods == ["2026/27 Q1"]
    # England Disability/Religion rows and the ICB Disability row are other breakdowns; the
    # InvalidRegionCode row is skipped; the D7T5G sub-ICB Total row (a merged ICB) is kept.
    assert list(f["area_code"]) == ["06Q"]
    assert f.iloc[0]["parent_code"] == "D7T5G"
    assert f.iloc[0]["parent_name"] == "NHS ESSEX INTEGRATED CARE BOARD"
    assert sum(r.skipped.values()) == 3


# --- zips --------------------------------------------------------------------------------


def make_zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_reads_only_the_icb_csv():
    good = quarterly_csv(small_quarter())
    provider = b"not even csv \x00\x01"  # never parsed
    data = make_zip({"nhstt_q3_25_26_ICB_subICB.csv": good, "nhstt_q3_25_26_provider.csv": provider,
                     "nhstt_q3_25_26_subICB_provider.csv": provider})
    r = read(data, "nhstt_q3_25_26.zip")
    assert r.kind.startswith("quarterly zip")
    eng = r.frame[(r.frame["level"] == "England") & (r.frame["group"] == "Total")]
    assert len(eng) == 1 and eng.iloc[0]["finished"] == 170000


def test_zip_without_icb_csv():
    with pytest.raises(InputError, match="no ICB/sub-ICB CSV"):
        read(make_zip({"readme.txt": b"hello", "x_provider.csv": b"a"}), "q.zip")


def test_zip_with_path_traversal():
    with pytest.raises(InputError, match="outside"):
        read(make_zip({"../x_ICB_subICB.csv": quarterly_csv(area_rows())}), "q.zip")


def test_zip_bomb_refused_before_reading():
    bomb = make_zip({"q_ICB_subICB.csv": b"0" * (50 * 1024**2)})
    assert len(bomb) < 200_000
    with pytest.raises(InputError, match="zip bomb"):
        read(bomb, "bomb.zip")


def test_zip_lying_about_its_size_stops_at_the_limit(monkeypatch):
    # Headers can lie; the byte count while streaming is the second line of defence.
    monkeypatch.setattr(sources, "declares_too_much", lambda info: False)
    monkeypatch.setattr(sources, "MAX_CSV_BYTES", 10_000)
    data = make_zip({"q_ICB_subICB.csv": quarterly_csv(area_rows() * 100)})
    with pytest.raises(InputError, match="expands beyond"):
        read(data, "q.zip")


@pytest.mark.parametrize("cut", [30, 200, 0.5])
def test_truncated_or_corrupt_zip(cut):
    data = make_zip({"q_ICB_subICB.csv": quarterly_csv(small_quarter() * 20)})
    n = int(len(data) * cut) if isinstance(cut, float) else cut
    with pytest.raises(InputError, match="damaged or incomplete"):
        read(data[:n], "q.zip")


def test_corrupt_zip_member():
    data = bytearray(make_zip({"q_ICB_subICB.csv": quarterly_csv(small_quarter() * 20)}))
    data[60:80] = b"\xff" * 20
    with pytest.raises(InputError):
        read(bytes(data), "q.zip")


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "empty"),
        (quarterly_csv([]), "header but no data rows"),
        (b"name,age\nann,3\n", "not an NHS Talking Therapies"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel workbook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "an image"),
        (b"head,er\nx\x00y,1\n", "binary data"),
        (
            b"REPORTING_PERIOD_START,REPORTING_PERIOD_END,GROUP_TYPE,ORG_CODE1,ORG_NAME1\n1,2,3,4,5\n",
            "monthly file",
        ),
    ],
)
def test_refuses_non_files(data, message):
    with pytest.raises(InputError, match=message):
        read(data)


def test_excel_xlsx_renamed_csv():
    data = make_zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"})
    with pytest.raises(InputError, match="xlsx"):
        read(data, "renamed.csv")


def test_missing_column_named():
    header = [h for h in HEADER if h != "VariableA"]
    rows = [r[:10] + r[11:] for r in area_rows()]
    with pytest.raises(InputError, match="missing column 'variablea'") as e:
        read(quarterly_csv(rows, header))
    assert e.value.column == "variablea" and e.value.row == 1


def test_unparseable_date_names_row_and_column():
    rows = area_rows()
    rows[3][0] = "2025-13-45"
    rows[3][1] = "2025-13-45"
    rows = rows[3:4] + rows[:3] + rows[4:]
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows))
    assert e.value.row == 2 and e.value.column == "REPORTING_PERIOD_START"


def test_us_style_dates_are_named_as_such():
    rows = [r[:] for r in area_rows(start="10/01/2025", end="12/31/2025")]
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows))
    assert e.value.row == 2 and e.value.column == "REPORTING_PERIOD_END"
    assert "'12/31/2025' is not a day/month/year date" in e.value.message
    assert "month/day/year" in e.value.message and "01/10/2025" in e.value.message
    rows = area_rows(start="31/09/2025", end="31/12/2025")
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows))
    assert "'31/09/2025' is not a real date" in e.value.message


def test_text_in_count():
    rows = area_rows()
    rows[2][14] = "lots"
    with pytest.raises(InputError, match="expected a number") as e:
        read(quarterly_csv(rows))
    assert e.value.row == 4 and e.value.column == "MEASURE_VALUE_SUPPRESSED"
    assert "q.csv" in str(e.value)


def test_negative_count():
    rows = area_rows(nac="-5")
    with pytest.raises(InputError, match="negative") as e:
        read(quarterly_csv(rows))
    assert e.value.row == 3


@pytest.mark.parametrize("value", ["99999999999999999999", "1e19", "60000001"])
def test_a_count_larger_than_englands_population(value):
    """A value beyond any possible count of people: refused at its row, not a traceback from
    storing it as a whole number (review, 2026-11-28: '1e19' crashed ingest and the page)."""
    rows = area_rows()
    rows[2][14] = value
    with pytest.raises(InputError, match="cannot exceed 60,000,000") as e:
        read(quarterly_csv(rows))
    assert e.value.row == 4 and e.value.column == "MEASURE_VALUE_SUPPRESSED"


@pytest.mark.parametrize("value", ["1.7E+05", "1.70e5", "2E1"])
def test_a_count_in_scientific_notation_is_refused(value):
    """Excel shows a large number in a narrow column as 1.7E+05 and saves it so: the count was
    stored rounded (170,000 for 170,423) without a word (a helper's review)."""
    rows = area_rows()
    rows[0][14] = value
    with pytest.raises(InputError, match="scientific notation has lost its last digits") as e:
        read(quarterly_csv(rows))
    assert e.value.row == 2 and value in str(e.value)


def test_a_renumbered_recovery_measure_is_refused_not_dropped():
    """M191 renumbered M9191 (its name still Count_Recovery): the rows were skipped as a
    measure the product does not read, and the quarter was stored with no recovery count at
    all, replacing good stored ones (review, 2026-11-28). Now the file is refused, naming the
    measure and where to look."""
    rows = small_quarter()
    for r in rows:
        if r[12] == "M191":
            r[12] = "M9191"
    with pytest.raises(InputError, match=r"no rows for recovered \(M191\)") as e:
        read(quarterly_csv(rows))
    assert "MEASURE_ID and MEASURE_NAME" in str(e.value) and "q.csv" in str(e.value)


@pytest.mark.parametrize(("data", "says"), [
    ("\ufeffREPORTING_PERIOD_START,x\n".encode("utf-16-le"), "saved as UTF-16"),
    ("REPORTING_PERIOD_START,x\n".encode("utf-16"), "saved as UTF-16"),
    (gzip.compress(b"REPORTING_PERIOD_START,x\n", mtime=0), "gzip-compressed"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "an image"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
])
def test_files_that_are_not_csv_text_say_what_they_are(data, says):
    """Excel's 'Unicode Text', a gzip, an image or a PDF named .csv: each was "not a text
    CSV (a NUL byte)", which does not tell a maintainer what to do (review, 2026-11-28)."""
    with pytest.raises(InputError, match=says) as e:
        read(data)
    assert e.value.row == 1 and "q.csv" in str(e.value)


def test_a_password_protected_zip_says_so():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("q_ICB_subICB.csv", quarterly_csv(area_rows()))
    data = bytearray(buf.getvalue())
    # The "encrypted" flag an encrypting tool sets, in the local and the central header.
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(sig) + at] |= 0x1
    with pytest.raises(InputError, match="password-protected") as e:
        read(bytes(data), "q.zip")
    assert "ZipInfo" not in str(e.value)


def test_a_renamed_breakdown_or_group_is_a_warning_not_silence():
    """VariableType 'Ethnicity' for 'Ethnic Group' lost every ethnic-group row, and 'BAME'
    for 'BME' stored a group no page shows, both without a word (review, 2026-11-28)."""
    assert read(quarterly_csv(small_quarter())).warnings == []
    renamed = [[*r[:9], "Ethnicity" if r[9] == "Ethnic Group" else r[9], *r[10:]]
               for r in small_quarter()]
    warned = read(quarterly_csv(renamed)).warnings
    assert any("no rows by ethnic group (VariableType 'Ethnic Group')" in w for w in warned)
    bame = [[*r[:10], "BAME" if r[10] == "BME" else r[10], *r[11:]] for r in small_quarter()]
    warned = read(quarterly_csv(bame)).warnings
    assert any("population group 'BAME' not known" in w for w in warned), warned


def test_levels_left_out_on_purpose_are_not_named_but_others_are():
    """Provider rows are in every published file and left out on purpose: no warning. A level
    no reader knows ('Integrated Care Board' for 'ICB') is named."""
    rows = small_quarter()
    provider = [[*r[:8], "Provider", *r[9:]] for r in rows if r[8] == "ICB"]
    assert read(quarterly_csv(rows + provider)).warnings == []
    odd = [[*r[:8], "Integrated Care Board", *r[9:]] for r in rows if r[8] == "ICB"]
    warned = read(quarterly_csv(rows + odd)).warnings
    assert any("GroupType or OrgType 'Integrated Care Board' were not read" in w
               for w in warned), warned


def test_recovered_above_denominator():
    with pytest.raises(InputError, match="recovered .* more than finished minus not at caseness"):
        read(quarterly_csv(area_rows(finished="100", nac="10", recovered="120")))


def test_rounding_tolerance_below_england_level():
    # 94 recovered of 102 - 8 true; published rounded: 95 of 100 - 10
    read(quarterly_csv(area_rows(finished="100", nac="10", recovered="95", reliable="90")))
    with pytest.raises(InputError):
        read(quarterly_csv(area_rows(level="England", code="ENG", finished="100", nac="10",
                                     recovered="95", reliable="90")))


def test_quarter_from_the_future():
    with pytest.raises(InputError, match="from the future"):
        read(quarterly_csv(area_rows(start="2026-10-01", end="2026-12-31")))


def test_not_a_quarter():
    with pytest.raises(InputError, match="not a financial quarter"):
        read(quarterly_csv(area_rows(start="2025-10-01", end="2025-10-31")))


def test_truncated_csv():
    data = quarterly_csv(small_quarter())
    cut = data.rindex(b'","', 0, len(data) - 40) + 1  # after a value's closing quote
    with pytest.raises(InputError, match="wrong number of fields: expected 15, found 12 .the file may be cut short") as e:
        read(data[:cut])
    assert e.value.row == len(small_quarter()) + 1  # the last line, cut


def test_no_recovery_measures():
    rows = area_rows()
    for row in rows:
        row[12], row[13] = "M001", "Count_ReferralsReceived"
    with pytest.raises(InputError, match="no recovery measures"):
        read(quarterly_csv(rows))


def test_file_like_upload(small_csv):
    with open(small_csv, "rb") as f:
        r = readers.read_file(io.BytesIO(f.read()), "upload.csv", today=TODAY)
    assert len(r.frame) > 5


def test_summary_in_words(small_csv):
    text = "\n".join(readers.read_file(small_csv, today=TODAY).summary())
    assert "2025/26 Q3" in text and "Suppressed" in text and "2 ICB" in text


# --- annual ------------------------------------------------------------------------------


def test_annual_needs_a_year():
    data = b"OrgType,OrgCode,OrgName,VariableType,VariableA,VariableB,Count_FinishedCourseTreatment," \
        b"Count_NotAtCaseness,Count_Recovery\nEngland,All,All,Total,NULL,NULL,100,10,45\n"
    with pytest.raises(InputError, match="which financial year"):
        read(data, "annual.csv")
    r = read(data, "annual.csv", period="2024-25")
    assert r.periods == ["2024/25"] and r.frame.iloc[0]["recovered"] == 45


def test_a_column_named_twice_is_refused_not_guessed():
    rows = [r + ["999"] for r in area_rows()]
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows, header=HEADER + ["measure_value_suppressed"]))
    assert e.value.row == 1 and e.value.column == "measure_value_suppressed"
    assert "names one column in two ways ('MEASURE_VALUE_SUPPRESSED' and " \
        "'measure_value_suppressed'), as columns 15 and 16" in e.value.message
    data = b"OrgType,OrgCode,OrgName,VariableType,VariableA,VariableB,Count_FinishedCourseTreatment," \
        b"Count_NotAtCaseness,Count_Recovery,CountRecovery\nEngland,All,All,Total,NULL,NULL,100,10,45,4\n"
    with pytest.raises(InputError) as e:
        read(data, "annual_2024-25.csv")
    assert "('Count_Recovery' and 'CountRecovery'), as columns 9 and 10" in e.value.message


def test_a_year_among_quarters_is_refused_at_its_row():
    rows = small_quarter() + small_quarter("2024-04-01", "2025-03-31")
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows))
    assert e.value.row == len(small_quarter()) + 2
    assert "a quarterly file with rows for a whole financial year (2024/25)" in e.value.message
    # Two quarters in one file are read (a maintainer may join them).
    rows = small_quarter() + small_quarter("2025-07-01", "2025-09-30")
    assert read(quarterly_csv(rows)).periods == ["2025/26 Q2", "2025/26 Q3"]


def test_a_semicolon_separated_file_is_named_as_such():
    data = quarterly_csv(small_quarter()).replace(b'","', b'";"')
    with pytest.raises(InputError) as e:
        read(data)
    assert e.value.row == 1 and "separated by semicolons" in e.value.message


def test_annual_year_given_against_its_name_is_refused_and_a_matching_one_read():
    data = b"OrgType,OrgCode,OrgName,VariableType,VariableA,VariableB,Count_FinishedCourseTreatment," \
        b"Count_NotAtCaseness,Count_Recovery\nEngland,All,All,Total,NULL,NULL,100,10,45\n"
    with pytest.raises(YearError, match="name says 2024-25 but the year given is 2023-24"):
        read(data, "psych-ther-ann-2024-25.csv", period="2023-24")
    assert read(data, "psych-ther-ann-2024-25.csv", period="2024/25").periods == ["2024/25"]


def test_an_annual_name_holding_two_years_asks_which():
    """'...-2023-24-revised-2024-25.csv' holding 2024-25 data was stored as 2023/24, the first
    year in its name (a helper's review)."""
    data = b"OrgType,OrgCode,OrgName,VariableType,VariableA,VariableB,Count_FinishedCourseTreatment," \
        b"Count_NotAtCaseness,Count_Recovery\nEngland,All,All,Total,NULL,NULL,100,10,45\n"
    name = "psych-ther-ann-2023-24-revised-2024-25.csv"
    with pytest.raises(YearError, match=r"name holds 2 financial years \(2023-24 and 2024-25\): "
                       "give the year"):
        read(data, name)
    with pytest.raises(YearError, match="the year given, 2022-23, is neither"):
        read(data, name, period="2022-23")
    assert read(data, name, period="2024-25").periods == ["2024/25"]


def test_a_file_with_nothing_below_region_warns_that_no_icb_figures_come_from_it():
    """An annual file whose ICB rows carry an OrgType the product does not know ('Integrated
    Care Board' for 'ICB') loads England and the regions only: it says so."""
    data = b"OrgType,OrgCode,OrgName,VariableType,VariableA,VariableB,Count_FinishedCourseTreatment," \
        b"Count_NotAtCaseness,Count_Recovery\nEngland,All,All,Total,NULL,NULL,100,10,45\n" \
        b"Integrated Care Board,QF7,NHS SOUTH YORKSHIRE ICB,Total,NULL,NULL,50,5,20\n"
    said = read(data, "annual_2024-25.csv").layout_warnings
    assert any("no rows below region" in w for w in said), said
    assert not any("below region" in w for w in read(quarterly_csv(small_quarter())).layout_warnings)


def test_a_file_without_england_rows_warns_that_the_headline_will_be_missing():
    said = read(quarterly_csv([r for r in small_quarter() if r[8] != "England"])).layout_warnings
    assert any(w.startswith("Warning: the file has no England rows") for w in said), said
    assert not any("no England rows" in w for w in read(quarterly_csv(small_quarter())).layout_warnings)


def test_annual_missing_recovery_column():
    data = b"OrgType,OrgCode,OrgName,VariableType,VariableA,VariableB,Count_FinishedCourseTreatment\n" \
        b"England,All,All,Total,NULL,NULL,100\n"
    with pytest.raises(InputError, match="not at caseness column .Count_NotAtCaseness, or CountNotAtCaseness"):
        read(data, "annual_2024-25.csv")


def test_annual_year_not_ended():
    data = b"OrgType,OrgCode,OrgName,VariableType,VariableA,VariableB,Count_FinishedCourseTreatment," \
        b"Count_NotAtCaseness,Count_Recovery\nEngland,All,All,Total,NULL,NULL,100,10,45\n"
    with pytest.raises(InputError, match="has not ended"):
        read(data, "annual_2026-27.csv")


def test_only_a_year_error_is_one_a_given_year_can_cure():
    """The upload page offers its year box by the error's type (``YearError``), not its words:
    every year problem of an annual file is one, and no other error is."""
    head = b"OrgType,OrgCode,OrgName,VariableType,VariableA,VariableB," \
        b"Count_FinishedCourseTreatment,Count_NotAtCaseness,Count_Recovery\n"
    good = head + b"England,All,All,Total,NULL,NULL,100,10,45\n"
    for name, period in (("annual.csv", None), ("annual_2026-27.csv", None),
                         ("annual.csv", "2024-26"), ("annual.csv", "2020-21 Q2")):
        with pytest.raises(YearError):
            read(good, name, period=period)
    bad = head + b"England,All,All,Total,NULL,NULL,100,ten,45\n"  # a year cannot cure this
    with pytest.raises(InputError) as caught:
        read(bad, "annual_2024-25.csv")
    assert not isinstance(caught.value, YearError)


@needs_shared()
def test_real_monthly_rows_refused_with_reason():
    with pytest.raises(InputError, match="monthly file"):
        readers.read_file(REAL / "monthly_2025-09_rows.csv", today=TODAY)


@needs_shared()
@pytest.mark.parametrize("year", ["2019-20", "2024-25"])
def test_real_annual_headers_accepted(year):
    header = (REAL / f"annual_{year}_header.csv").read_text().strip().split(",")
    values = {h: "" for h in header}
    values.update({"OrgType": "England", "OrgCode": "All", "OrgName": "All",
                   "VariableType": "Total", "VariableA": "NULL", "VariableB": "NULL"})
    counts = {"FinishedCourseTreatment": "1000", "NotAtCaseness": "50", "Recovery": "480",
              "ReliableRecovery": "450"}
    for stem, v in counts.items():
        for h in header:
            if h.replace("_", "") == f"Count{stem}":
                values[h] = v
    data = ",".join(header) + "\n" + ",".join(values[h] for h in header) + "\n"
    f = readers.read_file(data.encode(), f"annual_{year}.csv", today=TODAY).frame
    row = f.iloc[0]
    assert (row["finished"], row["not_at_caseness"], row["recovered"],
            row["reliable_recovered"]) == (1000, 50, 480, 450)
    assert row["period"] == year.replace("-", "/")


# --- The block scan ----------------------------------------------------------------------

def _noise(n: int) -> list[list[str]]:
    """Rows the reader drops: other breakdowns of the same measures."""
    rows = []
    for i in range(n):
        rows += area_rows(vtype="Age", va=f"{18 + i % 50}", vb="null")
    return rows


def _kept() -> list[list[str]]:
    return (area_rows(level="England", code="ENG", name="England", finished="170000",
                      nac="9000", recovered="80000", reliable="75000")
            + area_rows() + area_rows(vtype="BME Group", va="BME", finished="200",
                                      nac="10", recovered="90", reliable="80"))


def small_blocks(monkeypatch, size: int) -> None:
    monkeypatch.setattr(scan, "READ_BYTES", size)
    monkeypatch.setattr(scan, "BLOCK_BYTES", 2 * size)


@settings(max_examples=25, deadline=None)
@given(noise_before=st.integers(0, 400), noise_between=st.integers(0, 400),
       chunk=st.sampled_from([512, 4096, 65536]))
def test_scattered_rows_read_as_if_alone(noise_before, noise_between, chunk):
    kept = _kept()
    rows = _noise(noise_before) + kept[:6] + _noise(noise_between) + kept[6:]
    with pytest.MonkeyPatch.context() as mp:
        small_blocks(mp, chunk)
        mixed = read(quarterly_csv(rows))
    alone = read(quarterly_csv(kept))
    pd.testing.assert_frame_equal(mixed.frame, alone.frame.assign(source=mixed.frame["source"]))
    assert mixed.rows_read == len(rows) and mixed.rows_kept == len(kept)


def test_error_row_exact_across_blocks(monkeypatch):
    small_blocks(monkeypatch, 4096)
    bad = area_rows(recovered="lots")
    rows = _noise(300) + bad + _noise(300)
    with pytest.raises(InputError) as e:
        read(quarterly_csv(rows))
    assert e.value.row == 1 + 6 * 300 + 3  # header, the noise, then the third row (M191)
    assert "lots" in str(e.value)


def test_summary_counts_rows_read_and_measure_values_kept():
    """An annual row holds three measures: "read 1 rows, kept 3" read as an error."""
    data = (b"OrgType,OrgCode,OrgName,VariableType,VariableA,VariableB,"
            b"Count_FinishedCourseTreatment,Count_NotAtCaseness,Count_Recovery\n"
            b"England,All,All,Total,NULL,NULL,1000,50,480\n")
    first = readers.read_file(data, "annual_2016-17.csv").summary()[0]
    assert "read 1 row, kept 3 measure values (" in first


@pytest.mark.parametrize("spell", ["\ufeffQF7", "QF7\u200b", "qf7", " q\u2060f7 "])
def test_an_area_code_with_invisible_characters_or_in_lower_case_is_the_known_code(spell):
    """A byte-order mark, a zero-width space or lower case made a new ICB that printed exactly
    like (or nearly like) QF7, splitting its series in two (a helper's review)."""
    rows = small_quarter()
    for r in rows:
        if r[2] == "QF7":
            r[2] = spell
            r[3] = "NHS SOUTH \u202eYORKSHIRE\u202c ICB"  # a direction override in the name
    result = read(quarterly_csv(rows))
    codes = set(result.frame["area_code"])
    assert codes == {"ENG", "Y63", "QHM", "QF7", "00L"}
    assert "NHS SOUTH YORKSHIRE ICB" in set(result.frame["area_name"])
    assert not geography.unknown_codes(result.frame)


def test_a_sub_icb_filed_under_another_icb_or_an_icb_with_two_names_is_warned_of():
    """Both were stored without a word (a helper's review); the rows are kept as filed."""
    rows = small_quarter()
    for r in rows:
        if r[8] == "SubICB":
            r[2] = "QF7"
    said = read(quarterly_csv(rows)).warnings
    assert ("Warning: sub-ICB location 00L is filed under ICB QF7, but the reference tables "
            "put it in QHM") in " ".join(said)
    rows = small_quarter()
    for r in rows:
        if r[2] == "QHM" and r[8] == "ICB" and r[10] == "BME":
            r[3] = "NHS KENT AND MEDWAY INTEGRATED CARE BOARD"
    said = read(quarterly_csv(rows)).warnings
    assert "Warning: ICB QHM has 2 names in the file" in " ".join(said)
    assert not read(quarterly_csv(small_quarter())).warnings


def test_a_percentage_with_a_decimal_comma_is_refused():
    """'5,5' was read as 55 (the comma taken for a thousands separator; a helper's review)."""
    rows = area_rows()
    rows[4][14] = "47,5"  # M192, the published percentage
    with pytest.raises(InputError, match="a percentage with a comma") as e:
        read(quarterly_csv(rows))
    assert e.value.row == 6
