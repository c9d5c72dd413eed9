"""Score a links file against the truth of a generated dataset.

A link (left_id, right_id) is right when the truth gives both records the same person; a person
entered twice on the home ledger has two right answers. Precision = right links / links; recall
= right records linked to their person / right records whose person is on the home ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

#: Noise flags reported in the recall-by-error table when at least this share of rows has them.
MIN_FLAG_SHARE = 0.001


@dataclass
class Truth:
    left: pl.DataFrame  # left_id, left_person
    right: pl.DataFrame  # right_id, right_person, kind, noise, linkable
    linkable: int
    noise_bits: dict[str, int]


def load_truth(path: Path, meta: dict[str, Any]) -> Truth:
    truth = pl.read_csv(
        path,
        schema={
            "side": pl.String,
            "record_id": pl.String,
            "person_id": pl.Int64,
            "kind": pl.String,
            "noise": pl.Int64,
        },
    )
    left = truth.filter(pl.col("side") == "left").select(
        pl.col("record_id").alias("left_id"), pl.col("person_id").alias("left_person")
    )
    right = truth.filter(pl.col("side") == "right").select(
        pl.col("record_id").alias("right_id"),
        pl.col("person_id").alias("right_person"),
        "kind",
        "noise",
        pl.col("person_id").is_in(left["left_person"].implode()).alias("linkable"),
    )
    return Truth(left, right, int(right["linkable"].sum()), meta["noise_bits"])


def figures(links: pl.DataFrame, truth: Truth) -> dict[str, Any]:
    """Precision, recall and F1 of a set of links (polars DataFrame with left_id, right_id)."""
    joined = links.join(truth.left, on="left_id", how="left").join(
        truth.right, on="right_id", how="left"
    )
    joined = joined.with_columns(
        (pl.col("left_person") == pl.col("right_person")).fill_null(False).alias("correct")
    )
    predicted = joined.height
    right_links = int(joined["correct"].sum())
    found = joined.filter("correct")["right_id"].n_unique()
    precision = right_links / predicted if predicted else 0.0
    recall = found / truth.linkable if truth.linkable else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "links": predicted,
        "right": right_links,
        "wrong": predicted - right_links,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "unknown_linked": int(joined.filter(pl.col("kind") == "unknown").height),
        "repeated_right_ids": predicted - joined["right_id"].n_unique(),
    }


def recall_by_noise(links: pl.DataFrame, truth: Truth) -> dict[str, float]:
    """Recall among linkable right records carrying each error flag."""
    found = (
        links.join(truth.left, on="left_id")
        .join(truth.right, on="right_id")
        .filter(pl.col("left_person") == pl.col("right_person"))
        .select("right_id")
        .unique()
        .with_columns(pl.lit(True).alias("found"))
    )
    rows = (
        truth.right.filter("linkable")
        .join(found, on="right_id", how="left")
        .with_columns(pl.col("found").fill_null(False))
    )
    result: dict[str, float] = {"(all)": share_found(rows)}
    for name, bit in truth.noise_bits.items():
        flagged = rows.filter((pl.col("noise") & bit) != 0)
        if flagged.height >= MIN_FLAG_SHARE * rows.height and flagged.height:
            result[name] = share_found(flagged)
    return result


def share_found(rows: pl.DataFrame) -> float:
    return int(rows["found"].sum()) / rows.height if rows.height else 0.0


def read_links(path: Path) -> pl.DataFrame:
    links = pl.read_csv(path, infer_schema=False)
    missing = {"left_id", "right_id", "score", "decision"} - set(links.columns)
    if missing:
        raise ValueError(f"{path.name} lacks the columns {sorted(missing)}")
    return links.with_columns(pl.col("score").cast(pl.Float64, strict=False))


def score_ours(path: Path, truth: Truth) -> dict[str, Any]:
    links = read_links(path)
    matches = links.filter(pl.col("decision") == "match")
    counts = links.group_by("decision").len().rows()
    return {
        "match": figures(matches, truth),
        "match_review": figures(links, truth),
        "decisions": {str(k): int(v) for k, v in counts},
        "recall_by_noise": recall_by_noise(matches, truth),
    }


def score_splink(
    path: Path, truth: Truth, match: float, thresholds: tuple[float, ...]
) -> dict[str, Any]:
    """Splink's links carry their match probability as score: `match` from ``match``, and the
    figures at each of ``thresholds``."""
    links = read_links(path)
    matches = links.filter(pl.col("score") >= match)
    return {
        "match": figures(matches, truth),
        "match_review": figures(links, truth),
        "decisions": {str(k): int(v) for k, v in links.group_by("decision").len().rows()},
        "thresholds": {
            str(t): figures(links.filter(pl.col("score") >= t), truth) for t in thresholds
        },
        "recall_by_noise": recall_by_noise(matches, truth),
    }
