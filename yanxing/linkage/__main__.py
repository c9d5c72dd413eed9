"""Command line: link two CSV files without a database.

    python -m yanxing.linkage --left LEFT.csv --right RIGHT.csv --out LINKS.csv

Both inputs: UTF-8 CSV with a header and the columns
record_id,name,id_number,phone,sex,birth_date,home_village,city,employer.
LINKS.csv: left_id,right_id,score,decision,reasons — one row per right record with a candidate.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from .engine import Thresholds, run
from .types import COLUMNS

REQUIRED = ("record_id", "name")


def input_problem(path: str) -> str:
    """What is wrong with an input file, in Chinese and English ("" when it can be read)."""
    file = Path(path)
    if not file.is_file():
        return "找不到文件 / file not found"
    with file.open("rb") as handle:
        start = handle.read(1 << 16)
    try:
        start.decode("utf-8")
    except UnicodeDecodeError as error:
        # A character cut in two at the end of the sample is not an error.
        if error.start < len(start) - 3:
            return "不是 UTF-8 编码的 CSV，请另存为 UTF-8 / not a UTF-8 CSV file: save it as UTF-8"
    text = start.decode("utf-8", errors="ignore").removeprefix("\ufeff")
    header = next(csv.reader(text.splitlines()[:1]), [])
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        return (
            f"表头缺少 {', '.join(missing)} 列（应为 {','.join(COLUMNS)}）"
            f" / the header lacks {', '.join(missing)} (expected {','.join(COLUMNS)})"
        )
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m yanxing.linkage",
        description="Link the records of RIGHT to those of LEFT (same person or not).",
    )
    parser.add_argument(
        "--left", required=True, help="CSV of the left table (e.g. the home ledger)"
    )
    parser.add_argument("--right", required=True, help="CSV of the right table (e.g. a host list)")
    parser.add_argument("--out", required=True, help="where to write the links CSV")
    parser.add_argument("--match", type=float, default=Thresholds.match, help="match probability")
    parser.add_argument(
        "--review", type=float, default=Thresholds.review, help="review probability"
    )
    args = parser.parse_args(argv)
    for side, path in (("--left", args.left), ("--right", args.right)):
        problem = input_problem(path)
        if problem:
            print(f"{side} {path}: {problem}", file=sys.stderr)
            return 2

    started = time.perf_counter()
    linkage = run(
        args.left, args.right, thresholds=Thresholds(match=args.match, review=args.review)
    )
    linkage.links.select("left_id", "right_id", "score", "decision", "reasons").write_csv(args.out)
    stats = linkage.stats
    elapsed = time.perf_counter() - started
    print(
        f"left {stats['left']:,} records, right {stats['right']:,} records, "
        f"{stats['candidates']:,} candidate pairs\n"
        f"match {stats['match']:,}, review {stats['review']:,}, "
        f"right without a match {stats['unmatched_right']:,}, "
        f"left without a match {stats['unmatched_left']:,}\n"
        f"learned share of matches among candidates {stats['prior']:.3f} "
        f"({stats['em_iterations']} EM iterations); {elapsed:.1f} s; links written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
