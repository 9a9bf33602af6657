"""Command line: ``python -m core ingest|export|info|history|restore|undo|redo``.

Errors go to stderr as one plain sentence naming the file, row and column, with exit status 2
for bad input, a broken store or a file-system error (1 is left for bugs), so scripts can tell
a bad file from a broken tool, and a maintainer never sees a traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from core import explore, export, geography, history, model, unusual
from core.errors import InputError, printable
from core.store import DEFAULT_KEEP, MIN_KEEP, Store, ingest


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
        sp.add_argument(
            "--keep", type=int, default=DEFAULT_KEEP,
            help=f"versions to keep, at least {MIN_KEEP} (default: {DEFAULT_KEEP})",
        )

    sp = sub.add_parser("ingest", help="read published files and merge them into the store")
    sp.add_argument("files", nargs="+", type=Path, help="quarterly zip or CSV, or annual CSV")
    sp.add_argument("--period", help="financial year of an annual CSV, e.g. 2024-25")
    sp.add_argument(
        "--synthetic", action="store_true",
        help="mark the rows as synthetic sample data (the bundled sample only)",
    )
    sp.add_argument(
        "--remove-synthetic", action="store_true",
        help="remove the synthetic sample from the store (do this with the first real file)",
    )
    sp.add_argument(
        "--allow-partial", action="store_true",
        help="accept a file covering far fewer areas and groups than the store holds for its "
        "periods (a deliberate partial correction; otherwise refused as a cut file)",
    )
    store_arg(sp)

    sp = sub.add_parser("export", help="write tidy CSV to standard output")
    sp.add_argument("--level", choices=model.LEVELS)
    sp.add_argument("--area", help="area code or name, e.g. QHM")
    sp.add_argument("--group", help="population group, e.g. Total, BME, 'White British'")
    sp.add_argument("--measure", choices=list(model.MEASURES))
    sp.add_argument("--from", dest="start", help="first period: 2024/25 Q1, 2024/25 or a date")
    sp.add_argument("--to", dest="end", help="last period: 2024/25 Q4, 2024/25 or a date")
    sp.add_argument(
        "--boundaries", choices=list(geography.BOUNDARIES),
        help="ICBs in one geography, as the app shows them: 2022 (the 42 ICBs of July 2022) or "
        "2026 (the 36 from April 2026); earlier periods rebuilt from the areas they were "
        "published for, with 'approximate' and 'boundaries_note' columns. Without it, the "
        "rows as stored (STPs, CCGs and sub-ICB locations included)",
    )
    store_arg(sp)

    sp = sub.add_parser("info", help="what the store holds")
    store_arg(sp)
    sp = sub.add_parser("history", help="list the kept versions of the store, newest first")
    store_arg(sp)
    for name, text in (("restore", "move the store back one version (repeat to go further)"),
                       ("undo", "the same as restore"),
                       ("redo", "move forward again after a restore")):
        sp = sub.add_parser(name, help=text)
        store_arg(sp)
    return p


#: Control characters (but a line break): printed as escapes, so text from a file or a file
#: name cannot clear the terminal, recolour it or set its title.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def _say(text: str, file: TextIO | None = None) -> None:
    print(_CONTROL.sub(lambda m: repr(m.group())[1:-1], text), file=file or sys.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except InputError as exc:  # includes StoreError
        _say(f"error: {exc}", file=sys.stderr)
    except IsADirectoryError as exc:
        _say(f"error: {exc.filename}: is a folder; give the path of a Parquet store file.",
             file=sys.stderr)
    except (FileExistsError, NotADirectoryError) as exc:  # a folder on the path is a file
        _say(f"error: {exc.filename}: is a file, so the store cannot be kept in it as a "
             "folder; give a --store path whose folders are folders. Nothing was changed.",
             file=sys.stderr)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        if exc.filename and Path(str(exc.filename)).name.startswith(history.TMP_PREFIX):
            # the temporary file of an atomic write: its folder is what a maintainer can fix
            where = f"the folder {Path(str(exc.filename)).parent}: "
        _say(f"error: {where}{exc.strerror or exc}. Nothing was changed.", file=sys.stderr)
    except ValueError as exc:  # bad --from/--to, --keep and similar
        _say(f"error: {exc}", file=sys.stderr)
    return 2


def _run(args: argparse.Namespace) -> int:
    store = Store(args.store, keep=args.keep)
    if store.path.is_dir():
        raise InputError("this is a folder: give the path of a Parquet store file, e.g. "
                         "data/recovery.parquet", file=str(store.path))
    if store.path.suffix.lower() in (".csv", ".zip", ".xlsx", ".xls"):
        raise InputError(f"--store takes the Parquet store (such as data/recovery.parquet), "
                         f"not a {store.path.suffix.lower()} file: give the files to load "
                         "first, then --store and the store", file=str(store.path))
    if args.command == "ingest":
        results, report = ingest(
            args.files, store, synthetic=args.synthetic, period=args.period,
            remove_synthetic=args.remove_synthetic, partial=args.allow_partial,
        )
        for r in results:
            codes = r.code_warnings
            if r.codes_in_one():  # one warning, as the Upload page gives, with the codes
                names = r.unknown_code_names
                codes = [f"Warning: {r.codes_in_one()} The codes: " + ", ".join(names[:10])
                         + (f" and {len(names) - 10:,} more" if len(names) > 10 else "")
                         + "."]
            _say("\n".join(r.summary() + r.layout_warnings + codes))
        if args.period and not any(r.kind.startswith("annual") for r in results):
            _say(f"Warning: --period {args.period} was not used: it names the year of an "
                 "annual file, and quarterly files carry their own dates.")
        _say("\n".join(report.lines()))
        loaded = report.periods_added + report.periods_replaced
        if loaded and not report.changes_nothing:
            said = unusual.in_periods(store.load(), loaded)
            if said:  # as the Upload page says it, before anyone relies on the figures
                _say("\n".join([f"Warning: {unusual.CAUTION}",
                                 *(f"  {printable(n)}, {f}." for n, f in said),
                                 unusual.ADVICE.format(it="it" if len(said) == 1 else "them")]))
        _say(f"Store: {store.path}" + (" (unchanged: no new version written)"
                                        if report.changes_nothing else ""))
    elif args.command == "export":
        frame = store.load()
        if args.boundaries:
            frame = explore.frame_in_boundaries(frame, args.boundaries)
        frame = export.select(
            frame, level=args.level, area=args.area, group=args.group,
            start=args.start, end=args.end,
        )
        long = export.to_long(frame, [args.measure] if args.measure else None)
        sys.stdout.write(export.to_csv(long))
    elif args.command == "info":
        _say("\n".join(describe(store)))
    elif args.command == "history":
        _say("\n".join(history_lines(store)))
        store.load()  # a damaged store: say so, after the versions a maintainer can restore
    elif args.command in ("restore", "undo"):
        _say("\n".join(store.undo().lines(f"Restored {store.path} to")))
    elif args.command == "redo":
        _say("\n".join(store.redo().lines(f"Moved {store.path} forward to")))
    return 0


def history_lines(store: Store) -> list[str]:
    """One line per kept version: number, made from, when, which files, rows, checksum."""
    versions = store.history()
    if not versions:
        return [f"{store.path}: no versions kept yet."]
    out = [f"Versions of {store.path}, newest first (* = the store now):"]
    for v in versions:
        mark = "*" if v["current"] else " "
        if v["damaged"]:
            out.append(f"{mark} v{v['version']}: DAMAGED: {v['damaged']}")
            continue
        what = ", ".join(v.get("sources") or []) or "(no load recorded)"
        rows = f"{v['rows']:,} rows" if isinstance(v.get("rows"), int) else "rows not recorded"
        made = f"from v{v['parent']}" if v["parent"] else "first kept"
        out.append(
            f"{mark} v{v['version']} ({made}): {v.get('loaded_at', 'time not recorded')}, {what}, "
            f"{rows} (+{v.get('rows_added', 0):,}, {v.get('rows_replaced', 0):,} replaced), "
            f"sha256 {v['checksum'][:16]}"
        )
    return out


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
