"""Command line: ``python -m core ingest|export|info|restore``.

Errors go to stderr as one plain sentence naming the file, row and column, with exit status 2
for bad input (1 is left for bugs), so scripts can tell a bad file from a broken tool.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from core import export, model
from core.errors import InputError
from core.store import Store, ingest


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core",
        description="NHS Talking Therapies recovery rates: load published files, export tidy data.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    def store_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--store", type=Path, default=model.DEFAULT_STORE,
            help=f"Parquet store (default: {model.DEFAULT_STORE})",
        )

    sp = sub.add_parser("ingest", help="read published files and merge them into the store")
    sp.add_argument("files", nargs="+", type=Path, help="quarterly zip or CSV, or annual CSV")
    sp.add_argument("--period", help="financial year of an annual CSV, e.g. 2024-25")
    sp.add_argument(
        "--synthetic", action="store_true",
        help="mark the rows as synthetic sample data (the bundled sample only)",
    )
    store_arg(sp)

    sp = sub.add_parser("export", help="write tidy CSV to standard output")
    sp.add_argument("--level", choices=model.LEVELS)
    sp.add_argument("--area", help="area code or name, e.g. QHM")
    sp.add_argument("--group", help="population group, e.g. Total, BME, 'White British'")
    sp.add_argument("--measure", choices=list(model.MEASURES))
    sp.add_argument("--from", dest="start", help="first period: 2024/25 Q1, 2024/25 or a date")
    sp.add_argument("--to", dest="end", help="last period: 2024/25 Q4, 2024/25 or a date")
    store_arg(sp)

    sp = sub.add_parser("info", help="what the store holds")
    store_arg(sp)
    sp = sub.add_parser("restore", help="put back the version before the last write")
    store_arg(sp)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    store = Store(args.store)
    try:
        if args.command == "ingest":
            results, report = ingest(
                args.files, store, synthetic=args.synthetic, period=args.period
            )
            for r in results:
                print("\n".join(r.summary()))
            print("\n".join(report.lines()))
            print(f"Store: {store.path}")
        elif args.command == "export":
            frame = export.select(
                store.load(), level=args.level, area=args.area, group=args.group,
                start=args.start, end=args.end,
            )
            long = export.to_long(frame, [args.measure] if args.measure else None)
            sys.stdout.write(export.to_csv(long))
        elif args.command == "info":
            print("\n".join(describe(store)))
        elif args.command == "restore":
            store.restore()
            print(f"Restored the previous version of {store.path}.")
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # bad --from/--to and similar
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def describe(store: Store) -> list[str]:
    frame = store.load()
    if frame.empty:
        return [f"{store.path}: empty (no data loaded yet)."]
    quarters = frame[frame["period_type"] == "quarter"].drop_duplicates("period")
    years = frame[frame["period_type"] == "year"].drop_duplicates("period")
    lines = [f"Store: {store.path}"]
    if frame["synthetic"].any():
        lines.append("Contains SYNTHETIC sample data (not published statistics).")
    if len(quarters):
        q = quarters.sort_values("period_start")["period"].tolist()
        lines.append(f"Quarters: {len(q)}, {q[0]} to {q[-1]}")
    if len(years):
        lines.append("Years: " + ", ".join(years.sort_values("period_start")["period"]))
    for level, n in frame.groupby("level")["area_code"].nunique().items():
        lines.append(f"{level}: {n} areas")
    for b, groups in frame.groupby("breakdown")["group"].unique().items():
        lines.append(f"{b}: {', '.join(sorted(groups))}")
    lines.append(f"Rows: {len(frame):,}")
    for entry in store.log():
        lines.append(
            f"Loaded {entry['loaded_at']}: {', '.join(entry['sources'])} "
            f"(+{entry['rows_added']:,} rows, {entry['rows_replaced']:,} replaced"
            + (", synthetic" if entry.get("synthetic") else "") + ")"
        )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
