"""Write one linkage dataset and print its figures: python -m bench.linkagedata --help."""

from __future__ import annotations

import argparse
import json

from . import SETTINGS, Spec, ensure_dataset, rates_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="home-ledger rows")
    parser.add_argument("--setting", choices=list(SETTINGS), default="default")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rebuild", action="store_true", help="regenerate even if stored")
    args = parser.parse_args(argv)
    dataset = ensure_dataset(Spec(args.n, args.setting, args.seed), rebuild=args.rebuild)
    meta = dataset.meta
    print(json.dumps({"rows": meta["rows"], "seconds": meta["seconds"], **meta["stats"]}, indent=2))
    print()
    print(rates_table({f"{args.setting}": meta["realized"]["right"]}))
    for path in (dataset.left, dataset.right, dataset.truth):
        print(f"{path}  {path.stat().st_size / 2**20:,.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
