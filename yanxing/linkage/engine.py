"""Linking two tables (and finding duplicates within one): candidates, comparisons, weights,
the best left record for each right record, a decision and its reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from .compare import COMPARISONS, ID, NAME, compare_all
from .model import (
    MIN_PAIRS_TO_LEARN,
    MIN_RECORDS_TO_LEARN,
    Model,
    default_model,
    estimate_u,
    fit,
    pair_weights,
    probability,
)
from .pinyin import reading_tables
from .prepare import BLOCKING_KEYS, Prepared, blocking_keys, clean, name_codes, prepare, read_table
from .reasons import reason_column
from .types import FIELD_LABELS, MATCH, REVIEW, Conflict, DuplicateGroup, Link, LinkResult

#: A key value shared by more pairs than this is too common to say anything (a company
#: switchboard number, a very common name on a common birthday) and is not used for candidates.
MAX_BLOCK_PAIRS = 400
RANDOM_PAIRS = 300_000


@dataclass(frozen=True)
class Thresholds:
    #: Probability at or above which the best candidate is a ``match``.
    match: float = 0.99
    #: Probability at or above which it is shown for ``review``.
    review: float = 0.2
    #: The runner-up is "close" when its weight is within this many bits of the best.
    ambiguity_bits: float = 4.0


@dataclass
class Scored:
    """Candidate pairs of one linkage with their levels and weights (row numbers, not ids)."""

    left: Prepared
    right: Prepared
    li: np.ndarray
    ri: np.ndarray
    levels: np.ndarray
    weight: np.ndarray
    model: Model
    name_count: np.ndarray  # per left row: how many left records carry its name


@dataclass
class Linkage:
    """The outcome as tables: ``links`` has left_id, right_id, score, weight, decision,
    reasons and the level of each comparison; ``stats`` counts what happened."""

    links: pl.DataFrame
    scored: Scored
    stats: dict[str, Any] = field(default_factory=dict)


def _tables(left: pl.DataFrame, right: pl.DataFrame) -> Any:
    codes = np.concatenate([name_codes(left["name"]), name_codes(right["name"])])
    return reading_tables(codes)


def candidate_pairs(
    keys_left: pl.DataFrame, keys_right: pl.DataFrame, *, same_table: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    found = []
    for key in BLOCKING_KEYS:
        a = keys_left.select("row", key).drop_nulls()
        b = keys_right.select("row", key).drop_nulls()
        sizes = (
            a.group_by(key)
            .len("n_left")
            .join(b.group_by(key).len("n_right"), on=key)
            .filter(pl.col("n_left") * pl.col("n_right") <= MAX_BLOCK_PAIRS)
            .select(key)
        )
        joined = (
            a.join(sizes, on=key)
            .join(b, on=key, suffix="_r")
            .select(pl.col("row").alias("li"), pl.col("row_r").alias("ri"))
        )
        if same_table:
            joined = joined.filter(pl.col("li") < pl.col("ri"))
        found.append(joined)
    pairs = pl.concat(found).unique()
    return pairs["li"].to_numpy(), pairs["ri"].to_numpy()


def random_levels(a: Prepared, b: Prepared, size: int, seed: int = 20261122) -> np.ndarray:
    rng = np.random.default_rng(seed)
    li = rng.integers(0, len(a), size=size)
    ri = rng.integers(0, len(b), size=size)
    return compare_all(a, b, li, ri)


def learn(a: Prepared, b: Prepared, levels: np.ndarray) -> Model:
    """EM on the candidate pairs when there are enough of them, else the default model."""
    if len(levels) < MIN_PAIRS_TO_LEARN or min(len(a), len(b)) < MIN_RECORDS_TO_LEARN:
        return default_model()
    return fit(levels, estimate_u(random_levels(a, b, RANDOM_PAIRS)))


def _name_counts(frame: pl.DataFrame) -> np.ndarray:
    return frame.select(pl.len().over("name").alias("n"))["n"].to_numpy()


def score(left: pl.DataFrame, right: pl.DataFrame, *, same_table: bool = False) -> Scored:
    left_clean, right_clean = clean(read_table(left)), clean(read_table(right))
    tables = _tables(left_clean, right_clean)
    a = prepare(left_clean, tables)
    b = a if same_table else prepare(right_clean, tables)
    keys_a = blocking_keys(left_clean, tables)
    keys_b = keys_a if same_table else blocking_keys(right_clean, tables)
    li, ri = candidate_pairs(keys_a, keys_b, same_table=same_table)
    levels = compare_all(a, b, li, ri)
    model = learn(a, b, levels)
    name_count = _name_counts(left_clean)
    frequency = name_count[li] / max(len(a), 1)
    weight = pair_weights(model, levels, frequency)
    return Scored(a, b, li, ri, levels, weight, model, name_count)


ID_COLUMN = COMPARISONS.index(ID)
NAME_COLUMN = COMPARISONS.index(NAME)


def may_match(levels: np.ndarray) -> np.ndarray:
    """Pairs a ``match`` decision is allowed for, whatever the weights say; the rest go to
    review. Two different valid ID numbers are different people; and without agreeing ID
    numbers, names must sound the same (王建国/王建军 of one village and birthday are twins,
    not one person)."""
    id_level, name_level = levels[:, ID_COLUMN], levels[:, NAME_COLUMN]
    id_agrees = (id_level == 1) | (id_level == 2)
    name_sounds_same = (name_level >= 1) & (name_level <= 3)
    return (id_level != 4) & (id_agrees | name_sounds_same)


def best_links(scored: Scored, thresholds: Thresholds) -> pl.DataFrame:
    """The best left row per right row, with a decision; rows below review are dropped."""
    li, ri, weight = scored.li, scored.ri, scored.weight
    order = np.lexsort((-weight, ri))
    li, ri, weight = li[order], ri[order], weight[order]
    levels = scored.levels[order]
    first = np.ones(len(ri), dtype=bool)
    first[1:] = ri[1:] != ri[:-1]
    has_second = np.zeros(len(ri), dtype=bool)
    has_second[:-1] = first[:-1] & ~first[1:]
    second_weight = np.full(len(ri), -np.inf)
    second_weight[:-1] = np.where(has_second[:-1], weight[1:], -np.inf)
    keep = first
    li, ri, weight, levels = li[keep], ri[keep], weight[keep], levels[keep]
    second_weight = second_weight[keep]
    score_ = probability(weight)
    second_score = probability(second_weight)
    ambiguous = (second_score >= thresholds.review) & (
        weight - second_weight < thresholds.ambiguity_bits
    )
    decision = np.where(
        (score_ >= thresholds.match) & ~ambiguous & may_match(levels),
        MATCH,
        np.where(score_ >= thresholds.review, REVIEW, ""),
    )
    wanted = decision != ""
    rows, right_rows = li[wanted], ri[wanted]
    left_frame, right_frame = scored.left.frame, scored.right.frame
    table = pl.DataFrame(
        {
            "left_row": rows,
            "right_row": right_rows,
            "left_id": left_frame["record_id"].gather(rows),
            "right_id": right_frame["record_id"].gather(right_rows),
            "score": np.round(score_[wanted], 6),
            "weight": np.round(weight[wanted], 3),
            "decision": pl.Series(decision[wanted], dtype=pl.String),
            "ambiguous": ambiguous[wanted],
            "left_name": left_frame["name"].gather(rows),
            "right_name": right_frame["name"].gather(right_rows),
            "name_count": scored.name_count[rows],
        }
        | {c.field: levels[wanted, k] for k, c in enumerate(COMPARISONS)},
    )
    return table.with_columns(reasons=reason_column(table))


def run(left: Any, right: Any, *, thresholds: Thresholds | None = None) -> Linkage:
    thresholds = thresholds or Thresholds()
    scored = score(left, right)
    links = best_links(scored, thresholds)
    stats = {
        "left": len(scored.left),
        "right": len(scored.right),
        "candidates": len(scored.li),
        "match": int((links["decision"] == MATCH).sum()),
        "review": int((links["decision"] == REVIEW).sum()),
        "em_iterations": scored.model.iterations,
        "prior": scored.model.prior,
    }
    stats["unmatched_right"] = stats["right"] - stats["match"]
    matched_left = links.filter(pl.col("decision") == MATCH)["left_row"].unique()
    stats["unmatched_left"] = stats["left"] - len(matched_left)
    return Linkage(links=links, scored=scored, stats=stats)


# --------------------------------------------------------------------------------------------
# Duplicates within one table
# --------------------------------------------------------------------------------------------


def _groups(
    n: int, a: np.ndarray, b: np.ndarray, scores: np.ndarray
) -> list[tuple[list[int], float]]:
    """Connected groups of rows linked by the pairs (a[i], b[i]), with each group's lowest score."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    rows: dict[int, set[int]] = {}
    lowest: dict[int, float] = {}
    for x, y, s in zip(a.tolist(), b.tolist(), scores.tolist(), strict=True):
        root = find(x)
        rows.setdefault(root, set()).update((x, y))
        lowest[root] = min(lowest.get(root, s), s)
    return [(sorted(members), lowest[root]) for root, members in rows.items()]


def duplicates_in(
    table: Any, *, side: str, thresholds: Thresholds | None = None, model: Model | None = None
) -> list[DuplicateGroup]:
    """Groups of records in one table that are the same person (score at or above match)."""
    thresholds = thresholds or Thresholds()
    frame = clean(read_table(table))
    if len(frame) < 2:
        return []
    tables = reading_tables(name_codes(frame["name"]))
    prepared = prepare(frame, tables)
    keys = blocking_keys(frame, tables)
    li, ri = candidate_pairs(keys, keys, same_table=True)
    if not len(li):
        return []
    levels = compare_all(prepared, prepared, li, ri)
    model = model or learn(prepared, prepared, levels)
    counts = _name_counts(frame)
    weight = pair_weights(model, levels, counts[li] / len(frame))
    sure = (probability(weight) >= thresholds.match) & may_match(levels)
    groups = _groups(len(frame), li[sure], ri[sure], probability(weight[sure]))
    ids = frame["record_id"].to_list()
    return sorted(
        (
            DuplicateGroup(
                side=side, record_ids=tuple(str(ids[r]) for r in rows), score=round(s, 6)
            )
            for rows, s in groups
            if len(rows) > 1
        ),
        key=lambda g: g.record_ids,
    )


def dedupe(table: Any, *, thresholds: Thresholds | None = None) -> list[DuplicateGroup]:
    """The one-table case: duplicates within a single ledger."""
    return duplicates_in(table, side="left", thresholds=thresholds)


# --------------------------------------------------------------------------------------------
# The Python API
# --------------------------------------------------------------------------------------------

CONFLICT_FIELDS = [
    "name",
    "id_number",
    "phone",
    "sex",
    "birth_date",
    "home_village",
    "city",
    "employer",
]


def _conflicts(linkage: Linkage) -> list[Conflict]:
    matched = linkage.links.filter(pl.col("decision") == MATCH)
    if matched.is_empty():
        return []
    left = linkage.scored.left.frame
    right = linkage.scored.right.frame
    left_rows = matched["left_row"].to_numpy()
    right_rows = matched["right_row"].to_numpy()
    found: list[Conflict] = []
    for field_name in CONFLICT_FIELDS:
        level = matched[field_name].to_numpy()
        # Level 1 is agreement; 0 is a missing value, which is no conflict.
        differs = level >= 2
        if field_name == "home_village":
            differs = level == 3
        if field_name == "employer":
            differs = level == 3
        if not differs.any():
            continue
        source = "birth_date" if field_name == "birth_date" else field_name
        lv = read_values(left, source, left_rows[differs])
        rv = read_values(right, source, right_rows[differs])
        for lid, rid, a, b in zip(
            matched["left_id"].to_numpy()[differs],
            matched["right_id"].to_numpy()[differs],
            lv,
            rv,
            strict=True,
        ):
            found.append(Conflict(str(lid), str(rid), field_name, a, b))
    return found


def read_values(frame: pl.DataFrame, field_name: str, rows: np.ndarray) -> list[str]:
    column = {"birth_date": "birth", "home_village": "village"}.get(field_name, field_name)
    series = frame[column][rows]
    if column == "birth":
        series = series.dt.strftime("%Y-%m-%d")
    elif column == "sex":
        series = series.replace_strict({1: "男", 2: "女"}, default=None, return_dtype=pl.String)
    return [v or "" for v in series.cast(pl.String).to_list()]


def link(
    left: Any,
    right: Any,
    *,
    duplicates: bool = False,
    thresholds: Thresholds | None = None,
) -> LinkResult:
    """Link right records to left records. ``left``/``right``: a polars DataFrame, a CSV path
    or rows (mappings with the keys of COLUMNS; missing values empty or None)."""
    thresholds = thresholds or Thresholds()
    left_frame, right_frame = read_table(left), read_table(right)
    result = LinkResult()
    if left_frame.is_empty() or right_frame.is_empty():
        result.unmatched_left = [str(x) for x in left_frame["record_id"].to_list()]
        result.unmatched_right = [str(x) for x in right_frame["record_id"].to_list()]
    else:
        linkage = run(left_frame, right_frame, thresholds=thresholds)
        for row in linkage.links.iter_rows(named=True):
            result.links.append(
                Link(
                    left_id=str(row["left_id"]),
                    right_id=str(row["right_id"]),
                    score=float(row["score"]),
                    weight=float(row["weight"]),
                    decision=row["decision"],
                    reasons=tuple(row["reasons"].split("；")) if row["reasons"] else (),
                )
            )
        matched = linkage.links.filter(pl.col("decision") == MATCH)
        matched_left = set(matched["left_id"].cast(pl.String).to_list())
        matched_right = set(matched["right_id"].cast(pl.String).to_list())
        result.unmatched_left = [
            str(x) for x in left_frame["record_id"].to_list() if str(x) not in matched_left
        ]
        result.unmatched_right = [
            str(x) for x in right_frame["record_id"].to_list() if str(x) not in matched_right
        ]
        result.conflicts = _conflicts(linkage)
    if duplicates:
        result.duplicate_groups = duplicates_in(
            left_frame, side="left", thresholds=thresholds
        ) + duplicates_in(right_frame, side="right", thresholds=thresholds)
    return result


__all__ = ["FIELD_LABELS", "Linkage", "Thresholds", "dedupe", "duplicates_in", "link", "run"]
