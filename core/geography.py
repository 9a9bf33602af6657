"""NHS commissioning geography: what each published code is, and which ICB it belongs to.

The data spans two reorganisations. Until June 2022 areas were CCGs grouped into STPs; from
July 2022 sub-ICB locations (the April 2021 CCGs, same codes) grouped into 42 ICBs; from
1 April 2026 the same sub-ICB locations grouped into 36 ICBs. Sub-ICB locations are the stable
unit, so this module answers every question about areas through them, from the reference
tables in ``data/reference`` (ONS and NHS ODS data, Open Government Licence v3.0; see that
folder's README for sources and credit).

Regions are the current seven. The three regions abolished in April 2019 (Y54, Y55, Y57) each
cover two current regions, so they cannot be mapped onto one: they resolve as themselves,
labelled as abolished.

How a series is built across the changes is in :mod:`core.boundaries`; this module holds the
lookups and the per-code answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from core.model import DATA_DIR, icb_regions

REFERENCE_DIR = DATA_DIR / "reference"

BOUNDARIES = ("2022", "2026")
BOUNDARY_LABELS = {"2022": "ICBs 2022–26 (42)", "2026": "ICBs from April 2026 (36)"}
#: The same in a sentence, after a count of ICBs ("the 42 ICBs of the 2022–26 boundaries").
BOUNDARY_WORDS = {"2022": "the 2022–26 boundaries", "2026": "the boundaries from April 2026"}
#: First day of each geography: ICBs replaced CCGs and STPs; the April 2026 mergers.
ICB_START = dt.date(2022, 7, 1)
REORGANISATION_2026 = dt.date(2026, 4, 1)
#: Financial years the CCG and STP lookups cover (ONS vintages April 2017 to April 2021).
HISTORY_YEARS = ("2017-18", "2018-19", "2019-20", "2020-21", "2021-22")

REGION_UNKNOWN = "Region unknown"
ENGLAND_CODE = "ENG"

#: Order in which a code without a stated level is looked for.
LEVEL_ORDER = ("England", "Region", "ICB", "SubICB", "STP", "CCG")


@dataclass(frozen=True)
class Place:
    """One published code: what it is, its name, its parent and its (current) region."""

    code: str
    level: str
    name: str
    parent_code: str | None
    parent_name: str | None
    region_code: str | None
    region_name: str | None
    note: str = ""
    geographic: bool = True


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / name, dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def regions() -> pd.DataFrame:
    """Every region code met in the data: the current seven and the three abolished in 2019."""
    return _read("regions.csv")


@lru_cache(maxsize=2)
def icbs(boundaries: str) -> pd.DataFrame:
    """The ICBs of one geography with NHS and ONS codes, names and region, sorted by region.

    Columns: ``icb_code``, ``icb_ons_code``, ``icb_name``, ``short_name``, ``region_code``,
    ``region_name``.
    """
    _check(boundaries)
    all_ = _read("icbs.csv")
    out = all_[all_["boundaries"] == boundaries].drop(columns="boundaries")
    return out.sort_values(["region_name", "short_name"]).reset_index(drop=True)


@lru_cache(maxsize=2)
def subicb_icb(boundaries: str) -> pd.DataFrame:
    """Sub-ICB location -> ICB in one geography.

    Columns: ``subicb_code``, ``subicb_name``, ``icb_code``, ``whole`` (bool), ``note``. Every
    sub-ICB location has one row with ``whole`` True, except Frimley (D4U1Y) in 2026, which was
    split three ways and has one row per successor with ``whole`` False.
    """
    _check(boundaries)
    if boundaries == "2022":
        lk = _read("ccg21_stp21_subicb22_icb22.csv")
        return pd.DataFrame({
            "subicb_code": lk["LOC22CDH"], "subicb_name": lk["LOC22NM"],
            "icb_code": lk["ICB22CDH"], "whole": True, "note": "",
        })
    m = _read("subicb_icb_2026.csv")
    return pd.DataFrame({
        "subicb_code": m["subicb_code"], "subicb_name": m["subicb_name"],
        "icb_code": m["icb26_code"], "whole": m["whole"] == "True", "note": m["note"],
    })


@lru_cache(maxsize=1)
def ccg_history() -> pd.DataFrame:
    """Every CCG of 2017-18 to 2021-22, per financial year, onto its April 2021 CCG (= sub-ICB
    location) and July 2022 ICB, with the share of its area that goes there.

    Columns: ``financial_year``, ``ccg_code``, ``ccg_name``, ``subicb_code``, ``icb22_code``,
    ``share`` (float, 1.0 = whole), ``other`` (list of ``(icb22_code, n_small_areas)`` for the
    parts that went elsewhere).
    """
    b = _read("ccg_by_year.csv")
    return pd.DataFrame({
        "financial_year": b["financial_year"], "ccg_code": b["ccg_code"],
        "ccg_name": b["ccg_name"], "subicb_code": b["sicbl22_code"],
        "icb22_code": b["icb22_code"], "share": b["share_to_icb22"].astype(float),
        "other": [_parse_other(v) for v in b["other_icb22"]],
    })


@lru_cache(maxsize=1)
def stp_history() -> pd.DataFrame:
    """Every STP of 2017-18 to 2021-22, per financial year, onto its July 2022 ICB.

    STPs are published with ONS codes (E54...) to 2019-20 and NHS codes (Q..) after: each row
    has its ONS code (``stp_code``) and, where it had one, its NHS code (``nhs_code``). ``whole`` is False where the STP's area is
    not wholly inside the ICB (``other`` names where the rest went).
    """
    s = _read("stp_by_year.csv")
    return pd.DataFrame({
        "financial_year": s["financial_year"], "stp_code": s["stp_ons_code"],
        "nhs_code": s["stp_code"], "stp_name": s["stp_name"], "icb22_code": s["icb22_code"],
        "whole": s["boundary_changed"] != "True",
        "other": [_parse_other(v) for v in s["other_icb22"]],
    })


@lru_cache(maxsize=1)
def successions_2026() -> pd.DataFrame:
    """The 16 ODS-verified succession events of 1 April 2026 (predecessor -> successor)."""
    return _read("icb_successions_2026.csv")


@lru_cache(maxsize=1)
def other_codes() -> pd.DataFrame:
    """Published codes that are not areas: commissioning hubs and ``UNKNOWN``."""
    return _read("other_codes.csv")


def _parse_other(text: str) -> tuple[tuple[str, int], ...]:
    """``QJ2:21`` or ``QOQ Humber and North Yorkshire: 104 LSOAs`` -> ``(("QJ2", 21),)``."""
    out = []
    for part in filter(None, (p.strip() for p in (text or "").split(";"))):
        code = part.split(":")[0].split()[0]
        count = part.rsplit(":", 1)[1].split()[0]
        out.append((code, int(count)))
    return tuple(out)


def _check(boundaries: str) -> None:
    if boundaries not in BOUNDARIES:
        raise ValueError(f"boundaries must be one of {BOUNDARIES}, not {boundaries!r}")


def label(boundaries: str) -> str:
    _check(boundaries)
    return BOUNDARY_LABELS[boundaries]


def boundaries_of(period_end: dt.date) -> str | None:
    """The ICB geography published for a period ending on this day (None: CCGs and STPs)."""
    if period_end >= REORGANISATION_2026:
        return "2026"
    if period_end >= ICB_START:
        return "2022"
    return None


def default_boundaries(frame: pd.DataFrame) -> str:
    """The boundaries of the latest period in the frame (the current ones for an empty frame)."""
    if frame.empty:
        return BOUNDARIES[-1]
    latest = pd.to_datetime(frame["period_end"]).max().date()
    return boundaries_of(latest) or "2022"


def financial_year(day: dt.date) -> str:
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def history_year(day: dt.date) -> str | None:
    """The CCG/STP lookup year for a period starting on this day.

    CCGs did not change in April 2022, so the CCG and STP rows of April to June 2022 (quarterly
    files) use the 2021-22 vintage. Before 2017-18 there is no lookup.
    """
    fy = financial_year(day)
    if fy in HISTORY_YEARS:
        return fy
    if fy > HISTORY_YEARS[-1] and day < ICB_START:
        return HISTORY_YEARS[-1]
    return None


# ---------------------------------------------------------------------------------------------
# Resolving codes
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _places(boundaries: str) -> dict[tuple[str, str], Place]:
    """Every code the product meets, keyed by (level, code); ICB parents in ``boundaries``."""
    out: dict[tuple[str, str], Place] = {}
    out[("England", ENGLAND_CODE)] = Place(ENGLAND_CODE, "England", "England", None, None,
                                          None, None)
    reg = regions().set_index("region_code")
    for code, r in reg.iterrows():
        current = r["current"] == "True"
        out[("Region", code)] = Place(
            code, "Region", r["region_name"], ENGLAND_CODE, "England",
            code if current else None, r["region_name"] if current else None, r["note"])
    icb_rows = {b: icbs(b).set_index("icb_code") for b in BOUNDARIES}
    # ICBs: every ICB of either geography; a code in both (the 29 unchanged and QRL) resolves
    # with its row in the chosen geography.
    for b in sorted(BOUNDARIES, key=lambda x: x == boundaries):
        for code, r in icb_rows[b].iterrows():
            note = "" if code in icb_rows[boundaries].index else (
                f"not an ICB of the {BOUNDARY_LABELS[boundaries]}")
            out[("ICB", code)] = Place(code, "ICB", r["icb_name"], r["region_code"],
                                       r["region_name"], r["region_code"], r["region_name"], note)
    mine = {code: r for code, r in icb_rows[boundaries].iterrows()}
    for r in subicb_icb(boundaries).itertuples(index=False):
        if not r.whole:
            if ("SubICB", r.subicb_code) not in out:
                out[("SubICB", r.subicb_code)] = Place(
                    r.subicb_code, "SubICB", r.subicb_name, None, None, None, None, r.note)
            continue
        icb = mine[r.icb_code]
        out[("SubICB", r.subicb_code)] = Place(
            r.subicb_code, "SubICB", r.subicb_name, r.icb_code, icb["icb_name"],
            icb["region_code"], icb["region_name"])
    icb22 = {code: r for code, r in icb_rows["2022"].iterrows()}
    # CCGs and STPs: their parent is the July 2022 ICB they became (most of) and its region;
    # the latest year's name is kept.
    for r in ccg_history().itertuples(index=False):
        icb = icb22[r.icb22_code]
        note = "" if r.share >= 1 else (
            "part of its area went to " + ", ".join(c for c, _ in r.other) + " in July 2022")
        out[("CCG", r.ccg_code)] = Place(r.ccg_code, "CCG", r.ccg_name, r.icb22_code,
                                         icb["icb_name"], icb["region_code"],
                                         icb["region_name"], note)
    for r in stp_history().itertuples(index=False):
        icb = icb22[r.icb22_code]
        note = "" if r.whole else (
            "part of its area went to " + ", ".join(c for c, _ in r.other))
        for code in filter(None, (r.stp_code, r.nhs_code)):
            out[("STP", code)] = Place(code, "STP", r.stp_name, r.icb22_code, icb["icb_name"],
                                       icb["region_code"], icb["region_name"], note)
    for r in other_codes().itertuples(index=False):
        for level in r.levels.split(";"):
            out[(level, r.code)] = Place(r.code, level, r.name, None, None, None, None, r.note,
                                         geographic=False)
    return out


def resolve(code: str, level: str | None = None, boundaries: str = "2026") -> Place | None:
    """What a published code is: level, name, parent and region, or None if it is unknown.

    Without a level the code is looked for at each level in :data:`LEVEL_ORDER` (a 2021-22 STP
    carries its ICB's code, so ``QF7`` alone is the ICB). ``boundaries`` chooses which ICB a
    sub-ICB location belongs to.
    """
    _check(boundaries)
    places = _places(boundaries)
    code = str(code).strip()
    if level is not None:
        return places.get((level, code))
    for lv in LEVEL_ORDER:
        if (lv, code) in places:
            return places[(lv, code)]
    return None


def unknown_codes(frame: pd.DataFrame) -> list[str]:
    """The area codes of a frame that no reference table knows at their level, sorted.

    Ingest warns naming these; their rows are kept, under :data:`REGION_UNKNOWN`.
    """
    if frame.empty:
        return []
    pairs = frame[["level", "area_code"]].drop_duplicates()
    places = _places("2026")
    return sorted({c for lv, c in pairs.itertuples(index=False, name=None)
                   if (lv, str(c)) not in places})


def unknown_code_warnings(frame: pd.DataFrame) -> list[str]:
    """One warning per area code no reference table knows (``unknown_codes``), naming the
    code, its level and its published name: the ingest report and the Upload page show
    them. The rows are kept; an unknown ICB's sit under :data:`REGION_UNKNOWN`."""
    return [f"Warning: unknown {named}: it is not in the reference tables of NHS "
            "commissioning geography (data/reference). Its rows are kept"
            + (f", under \"{REGION_UNKNOWN}\"" if level in ("ICB", "SubICB", "Region") else "")
            + "; check the code, or update the reference tables."
            for level, named in _unknown(frame)]


def unknown_code_names(frame: pd.DataFrame) -> list[str]:
    """Each unknown area code as "SubICB code ZZ8 (its published name)", in code order."""
    return [named for _, named in _unknown(frame)]


def _unknown(frame: pd.DataFrame) -> list[tuple[str, str]]:
    unknown = set(unknown_codes(frame))
    if not unknown:
        return []
    rows = frame.loc[frame["area_code"].astype(str).isin(unknown),
                     ["level", "area_code", "area_name"]].drop_duplicates(["level", "area_code"])
    out = []
    for level, code, name in sorted(rows.itertuples(index=False, name=None),
                                    key=lambda r: (str(r[1]), str(r[0]))):
        shown = f" ({name})" if isinstance(name, str) and name and name != code else ""
        out.append((level, f"{level} code {code}{shown}"))
    return out


def parent_warnings(frame: pd.DataFrame) -> list[str]:
    """Sub-ICB locations a file files under an ICB that neither geography puts them in (a code
    typed into the wrong column, or an ICB code no table knows): their rows are kept as filed,
    so the maintainer is told."""
    if frame.empty or "parent_code" not in frame:
        return []
    sub = frame.loc[(frame["level"] == "SubICB").to_numpy(), ["area_code", "parent_code"]]
    out = []
    for code, parent in sub.drop_duplicates().itertuples(index=False, name=None):
        places = [resolve(code, "SubICB", b) for b in BOUNDARIES]
        known = sorted({p.parent_code for p in places if p is not None and p.parent_code})
        if known and parent not in known:
            out.append(f"Warning: sub-ICB location {code} is filed under ICB {parent}, but the "
                       f"reference tables put it in {' or '.join(known)}. Its rows are kept as "
                       "filed; check the file's ICB column.")
    return out


@lru_cache(maxsize=1)
def _regions_2022() -> dict[str, tuple[str, str]]:
    return {r.icb_code: (r.region_code, r.region_name)
            for r in icb_regions().itertuples(index=False)}


def icb_region(code: str) -> tuple[str, str] | None:
    """(region code, region name) of an ICB of either geography; None for an unknown code.
    The 42 ICBs of 2022 are looked up in their own table, with NHS England's region names,
    before every place of both geographies is built (0.08 s on a cold ingest)."""
    found = _regions_2022().get(str(code))
    if found is not None:
        return found
    place = _places("2026").get(("ICB", str(code)))
    if place is None or place.region_code is None:
        return None
    return place.region_code, place.region_name


def icb_series(frame: pd.DataFrame, boundaries: str) -> pd.DataFrame:
    """Every ICB's series in the chosen boundaries (see :mod:`core.boundaries`)."""
    from core.boundaries import icb_series as build

    return build(frame, boundaries)
