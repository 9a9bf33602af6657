"""Write the bundled SYNTHETIC sample in NHS England's published quarterly format.

Why synthetic: the app must run out of the box and be testable without downloading hundreds of
MB of published quarterly files, and the project does not redistribute them. The quarterly
numbers are invented, but each ICB's size, ethnic-group shares and group rates are its real
published 2024-25 annual figures scaled to a quarter (``data/reference/sample_profile.csv``,
written by ``scripts/build_real.py``), and England follows the published annual trend; counts
are rounded to 5 and under-5 suppressed below England level, as published. They are NOT
statistics: the store marks every row ``synthetic`` and the app says so.

The files exercise every path of the real readers: plain CSVs before 2021/22 (no MEASURE_ID and
the old measure names before December 2020), zips of three CSVs after, STP/CCG columns before
July 2022, ISO and dd/mm/yyyy dates, quoted fields, placeholders, other measures and breakdowns
that must be filtered out, and no Q2 2020/21 (never published).

    python scripts/make_sample.py build --store OUT  # a sample-only store (the bundled
                                                     # data/recovery.parquet, sample plus real
                                                     # annual figures: scripts/build_real.py)
    python scripts/make_sample.py scale 10 OUT.parquet  # ~10x the rows, for benchmarks
    python scripts/make_sample.py files OUT_DIR      # just write the published-format files
    python scripts/make_sample.py full-size OUT.zip  # one ~1M-row quarter, for benchmarks

The output is deterministic (fixed seed).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import model, periods  # noqa: E402

SEED = 20260401
FIRST_QUARTER = dt.date(2018, 4, 1)
LAST_QUARTER = dt.date(2026, 4, 1)
HEADER = [
    "REPORTING_PERIOD_START", "REPORTING_PERIOD_END", "ICB", "ICBName", "SubICB", "SubICBName",
    "Provider", "ProviderName", "GroupType", "VariableType", "VariableA", "VariableB",
    "MEASURE_ID", "MEASURE_NAME", "MEASURE_VALUE_SUPPRESSED",
]
# England annual recovery rate as published (and held roughly level since 2024-25).
ENGLAND_RATE = {2018: 52.1, 2019: 51.1, 2020: 51.4, 2021: 50.2, 2022: 49.9, 2023: 50.1,
                2024: 50.5, 2025: 50.7, 2026: 50.9}
ENGLAND_FINISHED = {2018: 582556, 2019: 606192, 2020: 634649, 2021: 664087, 2022: 672193,
                    2023: 671648, 2024: 670419, 2025: 675000, 2026: 680000}
#: Each ICB's published 2024-25 counts by group (written by scripts/build_real.py).
PROFILE = ROOT / "data" / "reference" / "sample_profile.csv"
#: Pseudo-count pulling a small group's rates towards its ICB's (rates of a few dozen people
#: are mostly noise); a group of a few hundred keeps its own.
PRIOR_WEIGHT = 40
# (broad group, detailed group or None, BME?)
GROUPS = [
    ("White", "British", False),
    ("White", "Irish", True),
    ("White", "Any other White background", True),
    ("Mixed", "White and Black Caribbean", True),
    ("Mixed", "White and Black African", True),
    ("Mixed", "White and Asian", True),
    ("Mixed", "Any other Mixed background", True),
    ("Asian or Asian British", "Indian", True),
    ("Asian or Asian British", "Pakistani", True),
    ("Asian or Asian British", "Bangladeshi", True),
    ("Asian or Asian British", "Any other Asian background", True),
    ("Black or Black British", "African", True),
    ("Black or Black British", "Caribbean", True),
    ("Black or Black British", "Any other Black background", True),
    ("Other Ethnic Groups", "Chinese", True),
    ("Other Ethnic Groups", "Any Other Ethnic Group", True),
    ("Not stated/Not known/Invalid", None, False),
]
OLD_NAMES = {
    "M076": "FinishedCourseTreatment", "M179": "NotCaseness", "M191": "Recovery",
    "M192": "RecoveryRate", "M193": "ReliableRecovery", "M195": "ReliableRecoveryRate",
    "M001": "ReferralsReceived", "M002": "SelfReferrals", "M1013": "MeanContactTimeIET",
}
NEW_NAMES = {
    "M076": "Count_FinishedCourseTreatment", "M179": "Count_NotAtCaseness",
    "M191": "Count_Recovery", "M192": "Percentage_Recovery", "M193": "Count_ReliableRecovery",
    "M195": "Percentage_ReliableRecovery", "M001": "Count_ReferralsReceived",
    "M002": "Count_SelfReferrals", "M1013": "Mean_ContactTimeIETReferral",
}
# Other breakdowns a real file carries; the readers must skip them.
OTHER_BREAKDOWNS = {
    "Age": ["18-25", "26-35", "36-45", "46-55", "56-64", "65+"],
    "Gender": ["Female", "Male", "Other"],
    "Disability": ["01 Behaviour and Emotional", "02 Hearing", "NONE"],
    "Religion": ["None", "Christian", "Muslim", "Hindu"],
    "IMD": [f"{i:02d} Decile" for i in range(1, 11)],
}


def quarters() -> list[dt.date]:
    out, day = [], FIRST_QUARTER
    while day <= LAST_QUARTER:
        if periods.quarter_label(day) not in periods.UNPUBLISHED_QUARTERS:
            out.append(day)
        day = periods.quarter_end(day) + dt.timedelta(days=1)
    return out


def geography(rng: np.random.Generator) -> pd.DataFrame:
    """One row per sub-ICB location with its ICB and region (sub-ICB codes are invented)."""
    icbs = model.icb_regions()
    rows = []
    for icb in icbs.itertuples():
        for k in range(int(rng.integers(1, 6))):
            code = f"{icb.icb_code}{k + 1:02d}"
            short = icb.icb_name.replace(" INTEGRATED CARE BOARD", " ICB")
            rows.append((icb.region_code, icb.region_name, icb.icb_code, icb.icb_name, code,
                         f"{short} - {code}"))
    return pd.DataFrame(
        rows, columns=["region_code", "region_name", "icb_code", "icb_name", "sub_code", "sub_name"]
    )


def read_profile(path: Path = PROFILE) -> pd.DataFrame:
    """Each ICB's published counts by group, one row per ICB and group of ``GROUPS`` plus Total."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no such file. It holds each ICB's real 2024-25 counts and is written by "
            "scripts/build_real.py from ../shared/data/real/."
        )
    prof = pd.read_csv(path, comment="#", dtype={"icb_code": str, "broad": str, "detailed": str},
                       keep_default_na=False, na_values={c: [""] for c in model.COUNT_COLUMNS})
    expected = [("Total", "")] + [(g[0], g[1] or "") for g in GROUPS]
    for icb, rows in prof.groupby("icb_code", sort=False):
        if list(zip(rows["broad"], rows["detailed"], strict=True)) != expected:
            raise ValueError(f"{path}: ICB {icb} must have one row for Total and for each "
                             "group of make_sample.GROUPS, in that order")
    return prof


class Model:
    """Fixed features of the synthetic population, drawn once from the seed.

    Each ICB's size, its ethnic-group shares and each group's share not at caseness, recovery
    rate and reliable-recovery share come from its published 2024-25 counts (``PROFILE``). A
    group's rates are pulled towards its ICB's by ``PRIOR_WEIGHT`` people, and a suppressed
    count (under 5) is taken as 2, so small groups stay plausible rather than noisy.
    """

    def __init__(self, seed: int = SEED, profile: Path = PROFILE) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.geo = geography(rng)
        icb_codes = list(dict.fromkeys(self.geo["icb_code"]))
        prof = read_profile(profile)
        missing = set(icb_codes) - set(prof["icb_code"])
        if missing:
            raise ValueError(f"{profile}: no profile for ICB {', '.join(sorted(missing))}")
        prof = prof.set_index("icb_code").loc[icb_codes]
        cols = list(model.COUNT_COLUMNS)
        counts = prof[cols].to_numpy(float).reshape(len(icb_codes), len(GROUPS) + 1, 4)
        counts = np.where(np.isnan(counts), 2.0, counts)
        fin, nac, rec, rel = (counts[..., k] for k in range(4))
        nac = np.minimum(nac, fin)
        rec = np.minimum(rec, fin - nac)
        rel = np.minimum(rel, rec)
        k = PRIOR_WEIGHT
        def pulled(part, whole):  # group share pulled towards the ICB's (column 0: Total)
            return (part[:, 1:] + k * part[:, :1] / whole[:, :1]) / (whole[:, 1:] + k)
        nac_share = pulled(nac, fin)
        rate = pulled(rec, fin - nac)
        reliable_share = pulled(rel, rec)
        england_rate = rec[:, 0].sum() / (fin[:, 0] - nac[:, 0]).sum()
        size = fin[:, 0] / fin[:, 0].sum()
        shares = fin[:, 1:] / fin[:, 1:].sum(axis=1, keepdims=True)

        row = self.geo["icb_code"].map({c: i for i, c in enumerate(icb_codes)}).to_numpy()
        sub_share = rng.dirichlet(np.ones(len(self.geo)) * 3)
        self.geo["weight"] = size[row] * sub_share
        self.geo["weight"] /= self.geo.groupby("icb_code")["weight"].transform("sum")
        self.geo["weight"] *= size[row]
        self.shares = shares[row]
        self.nac_share = nac_share[row]
        self.reliable_share = reliable_share[row]
        # Rate of each sub-ICB and group relative to England's, so each year's England rate can
        # follow the published series while ICBs and groups keep their real differences.
        self.effect = rate[row] - england_rate + rng.normal(0, 0.01, (len(self.geo), 1))

    def quarter(self, start: dt.date) -> np.ndarray:
        """Exact counts [sub-ICB, group, (finished, not at caseness, recovered, reliable)]."""
        rng = self.rng
        fy = periods.financial_year_start(start)
        q = periods.quarter_number(start)
        season = {1: 0.98, 2: 0.95, 3: 1.02, 4: 1.05}[q]
        england = ENGLAND_FINISHED[fy] / 4 * season
        expected = england * self.geo["weight"].to_numpy()[:, None] * self.shares
        fin = rng.poisson(expected)
        nac = rng.binomial(fin, self.nac_share)
        rate = ENGLAND_RATE[fy] / 100 + rng.normal(0, 0.003)
        p = rate + self.effect
        p = np.clip(p + rng.normal(0, 0.01, p.shape), 0.05, 0.95)
        at_risk = np.maximum(fin - nac, 0)
        p = np.clip(p - ((p * at_risk).sum() / at_risk.sum() - rate), 0.05, 0.95)
        rec = rng.binomial(fin - nac, p)
        rel = rng.binomial(rec, self.reliable_share)
        return np.stack([fin, nac, rec, rel], axis=-1)


def _group_rows(counts: np.ndarray) -> list[tuple[str, str, str, np.ndarray]]:
    """(VariableType, VariableA, VariableB, counts by area) for every group the product reads."""
    out = [("Total", "Total", "null", counts.sum(axis=1))]
    bme = np.array([g[2] for g in GROUPS])
    white_british = np.array([g[1] == "British" for g in GROUPS])
    not_stated = np.array([g[1] is None for g in GROUPS])
    out.append(("BME Group", "BME", "null", counts[:, bme].sum(axis=1)))
    out.append(("BME Group", "White British", "null", counts[:, white_british].sum(axis=1)))
    out.append(("BME Group", "Not stated/Not known/Invalid", "null",
                counts[:, not_stated].sum(axis=1)))
    for broad in dict.fromkeys(g[0] for g in GROUPS):
        members = np.array([g[0] == broad for g in GROUPS])
        out.append(("Ethnic Group", broad, "null", counts[:, members].sum(axis=1)))
        for i, g in enumerate(GROUPS):
            if g[0] == broad and g[1] is not None:
                out.append(("Ethnic Group", broad, g[1], counts[:, i]))
    return out


def _publish(values: np.ndarray, exact: bool) -> tuple[list[str], list[str], list[str]]:
    """Counts as NHS England prints them, and the two percentages.

    Below England level counts are rounded to the nearest 5 and under-5 shown as ``*``;
    percentages come from the unrounded counts (whole numbers; England one decimal).
    """
    fin, nac, rec, rel = (values[:, k] for k in range(4))
    den = fin - nac
    with np.errstate(divide="ignore", invalid="ignore"):
        pr, prr = 100 * rec / den, 100 * rel / den
    def count(v: np.ndarray) -> list[str]:
        if exact:
            return [str(int(x)) for x in v]
        r = (np.floor(v / 5 + 0.5) * 5).astype(int)
        return ["*" if x < 5 else str(int(y)) for x, y in zip(v, r, strict=False)]
    def pct(v: np.ndarray) -> list[str]:
        out = []
        for x, d in zip(v, den, strict=False):
            if d < 5 or not np.isfinite(x):
                out.append("*")
            else:
                out.append(f"{x:.1f}" if exact else str(int(np.floor(x + 0.5))))
        return out
    return [count(fin), count(nac), count(rec), count(rel)], pct(pr), pct(prr)


def quarter_frame(sample: Model, start: dt.date, filler_scale: int = 1) -> pd.DataFrame:
    """All rows of one quarter's ICB/sub-ICB CSV, in the published column order."""
    counts = sample.quarter(start)
    geo = sample.geo
    levels = []
    levels.append(("England", "All_ICB", "null", "All_SubICB", "null",
                   counts.sum(axis=0, keepdims=True)))
    for level, by, _code_col, name_col in (
        ("CommissioningRegion", "region_code", "region_code", "region_name"),
        ("ICB", "icb_code", "icb_code", "icb_name"),
    ):
        g = geo.groupby(by, sort=False)
        keys = list(g.groups)
        summed = np.stack([counts[geo.index[geo[by] == k]].sum(axis=0) for k in keys])
        names = g[name_col].first()
        levels.append((level, keys, [names[k] for k in keys], "All_SubICB", "null", summed))
    levels.append(("SubICB", list(geo["icb_code"]), list(geo["icb_name"]), list(geo["sub_code"]),
                   list(geo["sub_name"]), counts))
    # An unknown-region row, as real files carry.
    levels.append(("CommissioningRegion", ["InvalidRegionCode"], ["Unknown"], "All_SubICB", "null",
                   counts[:1] * 0 + 7))
    rng = np.random.default_rng(SEED + start.toordinal())
    parts = _Rows()
    for group_type, icb, icb_name, sub, sub_name, data in levels:
        n = data.shape[0]
        exact = group_type == "England"
        for vtype, va, vb, c in _group_rows(data):
            published, pr, prr = _publish(c, exact)
            for mid, values in zip(("M076", "M179", "M191", "M193"), published, strict=False):
                parts.add(n, icb, icb_name, sub, sub_name, group_type, vtype, va, vb,
                          mid, values)
            parts.add(n, icb, icb_name, sub, sub_name, group_type, vtype, va, vb,
                      "M192", pr)
            parts.add(n, icb, icb_name, sub, sub_name, group_type, vtype, va, vb,
                      "M195", prr)
            referrals = (c[:, 0] * 1.9).astype(int)
            parts.add(n, icb, icb_name, sub, sub_name, group_type, vtype, va, vb,
                      "M001", [str(x) for x in referrals])
        # Other breakdowns and measures that the readers must skip.
        total = data.sum(axis=1)[:, 0]
        for k in range(filler_scale):
            for vtype, cats in OTHER_BREAKDOWNS.items():
                for cat in cats:
                    share = rng.uniform(0.02, 0.3)
                    for mid in ("M001", "M002", "M076", "M191", "M1013"):
                        if mid == "M1013":
                            vals = [f"{x:.1f}" for x in rng.uniform(55, 90, n)]
                        else:
                            vals = [str(int(x)) for x in (total * share * (1.9 if mid < "M01" else 1))]
                        va = cat if k == 0 else f"{cat} {k}"
                        parts.add(n, icb, icb_name, sub, sub_name, group_type, vtype,
                                  va, "null", mid, vals)
    frame = parts.frame()
    frame.insert(0, "REPORTING_PERIOD_END", periods.quarter_end(start).isoformat())
    frame.insert(0, "REPORTING_PERIOD_START", start.isoformat())
    frame.insert(6, "Provider", "All_Provider")
    frame.insert(7, "ProviderName", "null")
    return frame[HEADER]


class _Rows:
    """A quarter's rows gathered column by column and made into one frame at the end: a
    frame per piece (about 1,500 a quarter) made the sample's build take minutes."""

    NAMES = ("ICB", "ICBName", "SubICB", "SubICBName", "GroupType", "VariableType",
             "VariableA", "VariableB", "MEASURE_ID", "MEASURE_NAME", "MEASURE_VALUE_SUPPRESSED")

    def __init__(self) -> None:
        self.columns: dict[str, list] = {name: [] for name in self.NAMES}

    def add(self, n, icb, icb_name, sub, sub_name, group_type, vtype, va, vb, mid,
            values) -> None:
        for name, value in zip(self.NAMES, (icb, icb_name, sub, sub_name, group_type, vtype, va,
                                            vb, mid, NEW_NAMES[mid], values), strict=True):
            column = [value] * n if isinstance(value, str) else list(value)
            if len(column) != n:
                raise ValueError(f"{name}: {len(column)} values for {n} rows")
            self.columns[name].extend(column)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.columns, dtype=object)


def as_published(frame: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    """Dress a quarter in the layout NHS England used at the time."""
    out = frame.copy()
    if start < dt.date(2022, 7, 1):  # STP and CCG columns before ICBs existed
        out = out.rename(columns={"ICB": "STP", "ICBName": "STPName", "SubICB": "CCG",
                                  "SubICBName": "CCGName"})
        out["GroupType"] = out["GroupType"].replace({"ICB": "STP", "SubICB": "CCG"})
        for col in ("STP", "CCG"):
            out[col] = out[col].replace({"All_ICB": "All_STP", "All_SubICB": "All_CCG"})
    if start < dt.date(2020, 10, 1):  # no MEASURE_ID, old measure names
        out["MEASURE_NAME"] = out["MEASURE_ID"].map(OLD_NAMES)
        out = out.drop(columns="MEASURE_ID")
    if start >= dt.date(2026, 4, 1) or start.year == 2019:  # dd/mm/yyyy in some quarters
        for col in ("REPORTING_PERIOD_START", "REPORTING_PERIOD_END"):
            out[col] = pd.to_datetime(out[col]).dt.strftime("%d/%m/%Y")
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    return buf.getvalue().encode("utf-8")


def file_name(start: dt.date) -> str:
    fy = periods.financial_year_start(start)
    q = periods.quarter_number(start)
    if start < dt.date(2021, 4, 1):
        return f"iapt_quarterly_q{q}_{fy % 100:02d}{(fy + 1) % 100:02d}_ccg.csv"
    if start < dt.date(2023, 4, 1):
        return f"iapt_quarterly_STP_and_CCGs_q{q}_{fy % 100:02d}{(fy + 1) % 100:02d}.zip"
    return f"nhstalkingtherapies_quarterly_data_q{q}_{fy % 100:02d}_{(fy + 1) % 100:02d}.zip"


def write_quarter(frame: pd.DataFrame, start: dt.date, out_dir: Path) -> Path:
    name = file_name(start)
    path = out_dir / name
    published = as_published(frame, start)
    if name.endswith(".csv"):
        path.write_bytes(csv_bytes(published))
        return path
    stem = name[:-4]
    england = published[published["GroupType"] == "England"].head(200).copy()
    provider = england.copy()
    provider_rows = england.head(20).copy()
    provider_rows["GroupType"] = "Provider"
    provider_rows["Provider"] = "RXX"
    provider_rows["ProviderName"] = "SYNTHETIC PROVIDER NHS TRUST"
    provider = pd.concat([provider, provider_rows])
    kind = "STP_CCG" if start < dt.date(2022, 7, 1) else "ICB_subICB"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{stem}_{kind}.csv", csv_bytes(published))
        zf.writestr(f"{stem}_provider.csv", csv_bytes(provider))
        zf.writestr(f"{stem}_subICB_provider.csv", csv_bytes(provider))
    return path


def write_files(out_dir: Path, profile: Path = PROFILE) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    sample = Model(profile=profile)
    return [write_quarter(quarter_frame(sample, q), q, out_dir) for q in quarters()]


def build(store_path: Path) -> None:
    from core.store import Store, ingest

    with tempfile.TemporaryDirectory() as tmp:
        files = write_files(Path(tmp))
        store_path.unlink(missing_ok=True)
        Store(store_path).previous_path.unlink(missing_ok=True)
        results, report = ingest(files, Store(store_path), synthetic=True)
    print("\n".join(report.lines()))
    print(f"Wrote {store_path} from {len(results)} synthetic published-format files.")


def full_size(path: Path, rows: int = 1_000_000) -> Path:
    """One quarter padded with other breakdowns to about ``rows`` rows (a real file's size)."""
    start = quarters()[-1]
    base = quarter_frame(Model(), start, filler_scale=1)
    other = len(base) - len(quarter_frame(Model(), start, filler_scale=0))
    scale = max(1, round((rows - len(base)) / other) + 1)
    frame = quarter_frame(Model(), start, filler_scale=scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".zip":
        written = write_quarter(frame, start, path.parent)
        written.replace(path)
    else:
        path.write_bytes(csv_bytes(as_published(frame, start)))
    return path


def scale(times: int, path: Path, source: Path = model.DEFAULT_STORE) -> int:
    """Write a store holding about ``times`` times the rows of the bundled one, for
    benchmarks: its quarters again, as many years earlier as it spans, and its sub-ICB
    locations repeated under new codes (``QHM01`` → ``QHM01x2``...) to make up the rest.

    Built from the bundled store rather than from published-format files: writing and reading
    ten times the files took over half an hour on a busy two-core machine. The copies keep the
    sample's counts, so an ICB's sub-ICB locations no longer sum to it; every row stays
    marked synthetic. Returns the number of rows written.
    """
    from core.store import Store, to_parquet_bytes

    frame = Store(source).load()
    frame = frame[frame["period_type"] == "quarter"]
    sub = frame[frame["level"] == "SubICB"]
    other = len(frame) - len(sub)
    copies = max(1, round((times / 2 * len(frame) - other) / max(len(sub), 1)))
    parts = [frame] + [sub.assign(area_code=sub["area_code"] + f"x{k}",
                                  area_name=sub["area_name"] + f" (copy {k})")
                       for k in range(2, copies + 1)]
    later = pd.concat(parts, ignore_index=True)
    first, last = later["period_start"].min(), later["period_start"].max()
    years = last.year - first.year + 1
    earlier = later.assign(
        period_start=[d.replace(year=d.year - years) for d in later["period_start"]],
        period_end=[d.replace(year=d.year - years) for d in later["period_end"]])
    earlier["period"] = [periods.quarter_label(d) for d in earlier["period_start"]]
    out = model.conform(pd.concat([earlier, later], ignore_index=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_parquet_bytes(out, Store(source).log()))
    return len(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="a store holding only the sample (the bundled store, "
                       "which also holds the real annual figures, is built by build_real.py)")
    b.add_argument("--store", type=Path, required=True)
    f = sub.add_parser("files", help="write the published-format files only")
    f.add_argument("out_dir", type=Path)
    x = sub.add_parser("scale", help="a store with about N times the bundled rows (benchmarks)")
    x.add_argument("times", type=int)
    x.add_argument("path", type=Path)
    s = sub.add_parser("full-size", help="one full-size quarterly CSV or zip for benchmarks")
    s.add_argument("path", type=Path)
    s.add_argument("--rows", type=int, default=1_000_000)
    args = p.parse_args(argv)
    if args.command == "build":
        build(args.store)
    elif args.command == "scale":
        print(f"Wrote {scale(args.times, args.path):,} rows to {args.path}.")
    elif args.command == "files":
        for path in write_files(args.out_dir):
            print(path)
    else:
        print(full_size(args.path, args.rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
