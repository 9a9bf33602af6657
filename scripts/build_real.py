"""Build the bundled store: the synthetic quarterly sample plus NHS England's real annual figures.

Why this way round: the real annual figures (2017-18 to 2024-25) live in ``../shared`` as a tidy
table, which is not a format the product reads. So they are written back out as the annual CSVs
NHS England published, one per year under that year's header generation (``CountRecovery`` to
2019-20, ``Count_Recovery`` from 2020-21), and loaded with the product's own ``ingest``: the
bundled store then proves the real path works, and a fresh clone (or Community Cloud, where
``../shared`` does not exist) gets real figures without it.

Steps, all deterministic:

1. derive ``data/reference/sample_profile.csv`` (each ICB's 2024-25 counts by ethnic group),
   which ``make_sample.py`` reads so the synthetic quarters have real magnitudes;
2. write the synthetic quarterly sample and load it into a fresh store (marked synthetic);
3. write the eight annual CSVs and load them into the same store in one write;
4. replace ``data/recovery.parquet`` only if its rows or log sources changed, so running it
   again leaves the committed file byte for byte as it was.

    python scripts/build_real.py                       # from ../shared, into data/
    python scripts/build_real.py --source FILE.parquet --store OUT.parquet --profile OUT.csv
    python scripts/build_real.py --files-only OUT_DIR  # just the annual CSVs
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import model  # noqa: E402
from core.provenance import ANNUAL_CREDIT  # noqa: E402
from core.store import Store, ingest, to_parquet_bytes  # noqa: E402
from scripts import make_sample  # noqa: E402

#: The credit for every figure that comes from these files: show it wherever they are shown.
CREDIT = ANNUAL_CREDIT
REAL_DIR = ROOT.parent / "shared" / "data" / "real"
DEFAULT_SOURCE = REAL_DIR / "annual_recovery_2017-18_to_2024-25.parquet"
PROFILE = make_sample.PROFILE
PROFILE_YEAR = "2024-25"

TIDY_COLUMNS = ("reporting_period", "org_type", "org_code", "org_name", "variable_type",
                "variable_a", "variable_b", "measure_name", "measure_statistic", "value")
ID_COLUMNS = ["OrgType", "OrgCode", "OrgName", "VariableType", "VariableA", "VariableB"]
#: Organisation types the product reads, in the order the published files list them.
ORG_TYPES = ("England", "Commissioning Region", "STP", "ICB", "CCG", "Sub-ICB")
VARIABLE_TYPES = ("Total", "BME Group", "Ethnic Group")
#: (measure_name, measure_statistic) in the tidy table -> column stem in the annual CSV.
MEASURES = {
    ("finished_course_treatment", "count"): ("Count", "FinishedCourseTreatment"),
    ("not_at_caseness", "count"): ("Count", "NotAtCaseness"),
    ("recovery", "count"): ("Count", "Recovery"),
    ("recovery", "percentage"): ("Percentage", "Recovery"),
    ("reliable_recovery", "count"): ("Count", "ReliableRecovery"),
    ("reliable_recovery", "percentage"): ("Percentage", "ReliableRecovery"),
}
#: The header generations: the real header file of each, and the first year it was used.
GENERATIONS = (("annual_2019-20_header.csv", 2017), ("annual_2024-25_header.csv", 2020))


class BuildError(Exception):
    """Something the build needs is missing or not as expected; the message says what."""


def load_tidy(source: Path) -> pd.DataFrame:
    """The real annual figures, checked to be the tidy table this script expects."""
    source = Path(source)
    if not source.is_file():
        raise BuildError(
            f"{source}: no such file. The real annual figures live in ../shared/data/real/ "
            "beside the project (give another path with --source)."
        )
    tidy = pd.read_parquet(source)
    missing = [c for c in TIDY_COLUMNS if c not in tidy.columns]
    if missing:
        raise BuildError(f"{source}: missing columns {', '.join(missing)}; expected "
                         f"{', '.join(TIDY_COLUMNS)}")
    return tidy


def header_for(year: str, headers_dir: Path) -> list[str]:
    """The columns of ``year``'s annual CSV that this build writes, named and ordered as the
    real header of its generation has them (read from that header, not retyped)."""
    first = int(year[:4])
    name = [n for n, since in GENERATIONS if first >= since][-1]
    path = Path(headers_dir) / name
    if not path.is_file():
        raise BuildError(f"{path}: no such file (the real annual header of {year}'s generation)")
    header = path.read_text(encoding="utf-8").strip().split(",")
    sep = "_" if first >= GENERATIONS[1][1] else ""
    wanted = set(ID_COLUMNS) | {f"{kind}{sep}{stem}" for kind, stem in MEASURES.values()}
    absent = wanted - set(header)
    if absent:
        raise BuildError(f"{path}: expected columns {', '.join(sorted(absent))} in the header")
    return [h for h in header if h in wanted]


def annual_tables(tidy: pd.DataFrame, headers_dir: Path) -> dict[str, pd.DataFrame]:
    """One wide table per year, as NHS England published it, with only what the product uses."""
    keep = tidy[tidy["org_type"].isin(ORG_TYPES) & tidy["variable_type"].isin(VARIABLE_TYPES)]
    keep = keep[[(m, s) in MEASURES for m, s in zip(keep["measure_name"],
                                                     keep["measure_statistic"], strict=True)]]
    ids = ["org_type", "org_code", "org_name", "variable_type", "variable_a", "variable_b"]
    out = {}
    for year, d in keep.groupby("reporting_period", sort=True):
        header = header_for(year, headers_dir)
        sep = "_" if int(year[:4]) >= GENERATIONS[1][1] else ""
        column = [f"{k}{sep}{s}" for k, s in (MEASURES[(m, st)] for m, st in
                                               zip(d["measure_name"], d["measure_statistic"],
                                                   strict=True))]
        d = d.assign(column=column)
        dup = d.duplicated([*ids, "column"], keep=False)
        if dup.any():
            row = d[dup].iloc[0]
            raise BuildError(f"{year}: two values for {row['column']} of {row['org_code']} "
                             f"{row['variable_a']} {row['variable_b']}")
        # Rows in the order the published file lists them: by organisation type, then as given.
        rank = d["org_type"].map({t: i for i, t in enumerate(ORG_TYPES)})
        d = d.assign(_rank=rank, _order=range(len(d))).sort_values(["_rank", "_order"],
                                                                    kind="stable")
        order = d.drop_duplicates(ids)[ids]
        wide = d.set_index([*ids, "column"])["value"].unstack("column")
        wide = wide.reindex(pd.MultiIndex.from_frame(order)).reset_index()
        wide.columns = ID_COLUMNS + list(wide.columns[len(ID_COLUMNS):])
        out[year] = wide.reindex(columns=header)
    return out


def csv_text(wide: pd.DataFrame) -> bytes:
    """Unquoted, comma-separated, as the published annual CSVs are; a missing value is empty."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(wide.columns)
    w.writerows(wide.fillna("").itertuples(index=False, name=None))
    return buf.getvalue().encode("utf-8")


def file_name(year: str) -> str:
    return f"psych-ther-ann-{year}.csv"


def write_annual_files(tidy: pd.DataFrame, out_dir: Path, headers_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for year, wide in annual_tables(tidy, headers_dir).items():
        path = out_dir / file_name(year)
        path.write_bytes(csv_text(wide))
        paths.append(path)
    return paths


def profile_table(tidy: pd.DataFrame, year: str = PROFILE_YEAR) -> pd.DataFrame:
    """Each ICB's published counts for ``year``: the whole population and each sample group.

    The synthetic sample scales these to a quarter, so its group sizes and rates look like the
    real ones ICB by ICB. Counts stay as published (rounded to 5; suppressed left empty).
    """
    d = tidy[(tidy["reporting_period"] == year) & (tidy["org_type"] == "ICB")
             & (tidy["measure_statistic"] == "count")]
    if d.empty:
        raise BuildError(f"no ICB rows for {year} in the real annual figures")
    names = {"finished_course_treatment": "finished", "not_at_caseness": "not_at_caseness",
             "recovery": "recovered", "reliable_recovery": "reliable_recovered"}
    d = d.assign(measure=d["measure_name"].map(names),
                 a=d["variable_a"].str.lower(), b=d["variable_b"].str.lower())
    wanted = [("Total", "", "Total", "null")]
    for broad, detailed, _bme in make_sample.GROUPS:
        if detailed is None:
            wanted.append((broad, "", "Ethnic Group", broad.lower(), "all"))
        else:
            wanted.append((broad, detailed, "Ethnic Group", broad.lower(), detailed.lower()))
    regions = model.icb_regions()
    rows = []
    for icb in regions["icb_code"]:
        area = d[d["org_code"] == icb]
        if area.empty:
            raise BuildError(f"ICB {icb} (data/reference/icb_regions.csv) has no {year} figures")
        for spec in wanted:
            if spec[2] == "Total":
                sel = area[area["variable_type"] == "Total"]
            else:
                sel = area[(area["variable_type"] == spec[2]) & (area["a"] == spec[3])
                           & (area["b"] == spec[4])]
            values = sel.set_index("measure")["value"]
            if values.index.duplicated().any() or set(values.index) != set(names.values()):
                raise BuildError(f"{year} {icb} {spec[0]} {spec[1]}: expected one value of each "
                                 f"count, found {sorted(values.index)}")
            count = {m: ("" if values[m] == "*" else str(int(values[m])))
                     for m in names.values()}
            rows.append({"icb_code": icb, "broad": spec[0], "detailed": spec[1], **count})
    return pd.DataFrame(rows)


def profile_text(profile: pd.DataFrame, year: str = PROFILE_YEAR) -> bytes:
    head = (
        f"# Each ICB's published {year} annual counts, the whole population and each ethnic "
        "group; the synthetic quarterly sample (scripts/make_sample.py) scales them to a "
        "quarter.\n"
        "# Counts are rounded to 5 by NHS England; an empty count was suppressed (under 5). "
        "Built by scripts/build_real.py.\n"
        f"# Source: {CREDIT}\n"
    )
    buf = io.StringIO()
    profile.to_csv(buf, index=False, lineterminator="\n")
    return (head + buf.getvalue()).encode("utf-8")


def _write_if_changed(path: Path, data: bytes) -> bool:
    path = Path(path)
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return True


def _timeless(log: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "loaded_at"} for e in log]


def same_store(a: Path, b: Path) -> bool:
    """Same rows and the same log apart from when each file was loaded."""
    if not (Path(a).is_file() and Path(b).is_file()):
        return False
    sa, sb = Store(a), Store(b)
    if _timeless(sa.log()) != _timeless(sb.log()):
        return False
    return sa.load().equals(sb.load())


def build(source: Path = DEFAULT_SOURCE, store_path: Path = model.DEFAULT_STORE,
          profile_path: Path = PROFILE, headers_dir: Path | None = None) -> dict:
    """Build the store at ``store_path``; returns what was written and what was left alone."""
    tidy = load_tidy(source)
    headers_dir = Path(headers_dir) if headers_dir else Path(source).parent
    profile_changed = _write_if_changed(profile_path, profile_text(profile_table(tidy)))
    store_path = Path(store_path)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store_path.parent, prefix=".tmp-build-") as tmp:
        tmp = Path(tmp)
        sample_files = make_sample.write_files(tmp / "sample", profile_path)
        annual_files = write_annual_files(tidy, tmp / "annual", headers_dir)
        fresh = Store(tmp / "recovery.parquet")
        _, sample_report = ingest(sample_files, fresh, synthetic=True)
        _, real_report = ingest(annual_files, fresh)
        # The credit travels with the data: on the log entry of the real files.
        log = fresh.log()
        log[-1]["credit"] = CREDIT
        fresh_bytes = to_parquet_bytes(fresh.load(), log)
        (tmp / "credited.parquet").write_bytes(fresh_bytes)
        changed = not same_store(tmp / "credited.parquet", store_path)
        if changed:
            previous = Store(store_path).previous_path
            if store_path.is_file():
                shutil.copyfile(store_path, previous)
            _write_if_changed(store_path, fresh_bytes)
    return {
        "store": store_path, "store_changed": changed, "profile": Path(profile_path),
        "profile_changed": profile_changed, "sample": sample_report, "real": real_report,
        "annual_files": [p.name for p in annual_files],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                   help="tidy annual figures (default: ../shared/data/real/...)")
    p.add_argument("--headers", type=Path, default=None,
                   help="folder with annual_2019-20_header.csv and annual_2024-25_header.csv "
                        "(default: beside --source)")
    p.add_argument("--store", type=Path, default=model.DEFAULT_STORE)
    p.add_argument("--profile", type=Path, default=PROFILE)
    p.add_argument("--files-only", type=Path, metavar="OUT_DIR",
                   help="only write the annual CSVs to OUT_DIR")
    args = p.parse_args(argv)
    try:
        if args.files_only:
            tidy = load_tidy(args.source)
            for path in write_annual_files(tidy, args.files_only,
                                           args.headers or args.source.parent):
                print(path)
            return 0
        out = build(args.source, args.store, args.profile, args.headers)
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("\n".join(out["sample"].lines()))
    print("\n".join(out["real"].lines()))
    print(f"{out['profile']}: {'written' if out['profile_changed'] else 'unchanged'}")
    print(f"{out['store']}: {'written' if out['store_changed'] else 'unchanged'} "
          f"(synthetic quarterly sample + {', '.join(out['annual_files'])})")
    print(f"Source of the annual figures: {CREDIT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

