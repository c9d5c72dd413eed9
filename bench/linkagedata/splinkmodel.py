"""The Splink model the benchmark compares with, run in a process of its own:

    python -m bench.linkagedata.splinkmodel LEFT.csv RIGHT.csv LINKS.csv [--seed N]

link_only between the two ledgers (DuckDB): comparisons on name (exact with term-frequency
adjustment, Jaro-Winkler), ID number (exact, Levenshtein 1 and 2), birth date (exact,
Levenshtein 1, within 2 months, 1 year, 10 years), sex, phone, home village and employer (exact,
one contained in the other, Jaro-Winkler), city; λ from deterministic rules, u from random
pairs, m by EM on two blocks; prediction on SPLINK_BLOCKING. Each right record keeps its most
probable left record when p >= SPLINK_LINK, as `match` from SPLINK_MATCH and `review` below,
written as left_id,right_id,score,decision,reasons. Timings and the trained model go to
LINKS.csv.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import time
from pathlib import Path
from typing import Any

#: `match` from this match probability; links kept from SPLINK_LINK (`review` in between).
SPLINK_MATCH = 0.9
SPLINK_LINK = 0.5
#: Pairs sampled to estimate u (Splink's "often adequate" figure; it stops early once every level
#: of a comparison has 100 observations, which the close ID-number levels never reach).
SPLINK_U_MAX_PAIRS = 1e7
#: Splink's blocking rules for prediction (columns or SQL expressions that must be equal).
SPLINK_BLOCKING = (
    ("id_number",),
    ("phone",),
    ("name", "birth_date"),
    ("name", "home_village"),
    ("birth_date", "home_village"),
    ("birth_date", "substr(name, 1, 1)"),
    ("name", "city"),
)


def splink_settings() -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    def exact_similar_or_contained(column: str, threshold: float) -> Any:
        """Exact, one contained in the other (新华村 in 石桥镇新华村; 华宏电子 in
        东莞市华宏电子有限公司), Jaro-Winkler >= threshold, else."""
        left, right = f'"{column}_l"', f'"{column}_r"'
        return cl.CustomComparison(
            output_column_name=column,
            comparison_levels=[
                cll.NullLevel(column),
                cll.ExactMatchLevel(column),
                cll.CustomLevel(
                    f"(contains({left}, {right}) OR contains({right}, {left}))",
                    label_for_charts="one contains the other",
                ),
                cll.JaroWinklerLevel(column, threshold),
                cll.ElseLevel(),
            ],
        )

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.8, 0.7]).configure(
                term_frequency_adjustments=True
            ),
            cl.LevenshteinAtThresholds("id_number", [1, 2]),
            cl.DateOfBirthComparison(
                "birth_date",
                input_is_string=True,
                datetime_thresholds=[2, 1, 10],
                datetime_metrics=["month", "year", "year"],
            ),
            cl.ExactMatch("sex"),
            cl.ExactMatch("phone"),
            exact_similar_or_contained("home_village", 0.85),
            cl.ExactMatch("city"),
            exact_similar_or_contained("employer", 0.85),
        ],
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in SPLINK_BLOCKING],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def run(left: Path, right: Path, out: Path, seed: int) -> int:
    """Train a Splink model on the two ledgers, predict, keep each right record's best left
    record, and write them as links. Timings go to ``out`` + .json."""
    marks = {"start": time.perf_counter()}
    import duckdb
    from splink import DuckDBAPI, Linker, block_on

    con = duckdb.connect()
    for table, path in (("home_ledger", left), ("host_ledger", right)):
        quoted = str(path).replace("'", "''")
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv('{quoted}', header = true, "
            "all_varchar = true)"
        )
    db_api = DuckDBAPI(connection=con)
    home = db_api.register("home_ledger", dataset_display_name="home")
    host = db_api.register("host_ledger", dataset_display_name="host")
    marks["read"] = time.perf_counter()
    linker = Linker([home, host], splink_settings(), log_level=logging.INFO)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_number"), block_on("name", "birth_date")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=SPLINK_U_MAX_PAIRS, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id_number"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("name", "birth_date")
    )
    marks["train"] = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=SPLINK_LINK)
    marks["predict"] = time.perf_counter()
    pairs = con.sql(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0]
    best = f"""
        WITH oriented AS (
            SELECT
                CASE WHEN source_dataset_l = 'home' THEN record_id_l ELSE record_id_r END AS left_id,
                CASE WHEN source_dataset_l = 'home' THEN record_id_r ELSE record_id_l END AS right_id,
                match_probability AS score
            FROM {predictions.physical_name}
        )
        SELECT left_id, right_id, round(score, 6) AS score,
               CASE WHEN score >= {SPLINK_MATCH} THEN 'match' ELSE 'review' END AS decision,
               '' AS reasons
        FROM oriented
        QUALIFY row_number() OVER (PARTITION BY right_id ORDER BY score DESC, left_id) = 1
    """
    con.execute(f"CREATE TABLE best AS {best}")
    marks["best"] = time.perf_counter()
    quoted = str(out).replace("'", "''")
    con.execute(
        f"COPY (SELECT * FROM best ORDER BY right_id) TO '{quoted}' (HEADER, DELIMITER ',')"
    )
    marks["write"] = time.perf_counter()
    names = list(marks)
    seconds = {b: round(marks[b] - marks[a], 2) for a, b in itertools.pairwise(names)}
    model = linker.misc.save_model_to_json()
    Path(str(out) + ".json").write_text(
        json.dumps(
            {
                "seconds": seconds,
                "scored_pairs_above_link_threshold": pairs,
                "model": model,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"splink: {seconds}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("left", type=Path)
    parser.add_argument("right", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=2026, help="seed of the u sampling")
    args = parser.parse_args(argv)
    return run(args.left, args.right, args.out, args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
