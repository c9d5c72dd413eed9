"""Command line: link two CSV files without a database.

    python -m yanxing.linkage --left LEFT.csv --right RIGHT.csv --out LINKS.csv

Both inputs: UTF-8 CSV with a header and the columns
record_id,name,id_number,phone,sex,birth_date,home_village,city,employer.
LINKS.csv: left_id,right_id,score,decision,reasons — one row per right record with a candidate.
"""

from __future__ import annotations

import argparse
import sys
import time

from .engine import Thresholds, run


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
