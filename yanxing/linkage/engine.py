"""Linking two tables (and finding duplicates within one): candidates, comparisons, weights,
the best left record for each right record, a decision and its reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from .compare import BIRTH, COMPARISONS, EMPLOYER, ID, NAME, PHONE, VILLAGE, compare_all
from .model import (
    MIN_PAIRS_TO_LEARN,
    MIN_RECORDS_TO_LEARN,
    Model,
    default_model,
    fit,
    pair_weights,
    probability,
)
from .prepare import (
    BLOCKING_KEYS,
    MISSING_DATE,
    Prepared,
    mix,
    prepare_both,
    prepare_one,
    read_table,
)
from .reasons import reason_column
from .types import COLUMNS, FIELD_LABELS, MATCH, REVIEW, Conflict, DuplicateGroup, Link, LinkResult

#: A key value shared by more pairs than this is too common to say anything (a company
#: switchboard number, a very common name on a common birthday) and is not used for candidates.
MAX_BLOCK_PAIRS = 400


@dataclass(frozen=True)
class Thresholds:
    #: Probability at or above which the best candidate is a ``match``.
    match: float = 0.5
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


ROW_BITS = 22  # rows per table side up to 4,194,304 when both tables are sorted together


def key_pairs(
    left_keys: np.ndarray, right_keys: np.ndarray, *, same_table: bool
) -> tuple[np.ndarray, np.ndarray]:
    """All (left row, right row) pairs with the same non-zero key, skipping keys shared by
    more than MAX_BLOCK_PAIRS pairs.

    One sort: each key's high bits and the row number are packed into one integer, so that
    sorting the integers groups equal keys, left rows before right rows. (Two keys that agree
    on their high 41 bits are taken as equal; such a pair is only compared, never trusted.)"""
    n_left = len(left_keys)
    width = n_left if same_table else n_left + len(right_keys)
    if width >= 1 << ROW_BITS:
        raise ValueError(f"too many records to link at once ({width:,})")
    rows_l = np.flatnonzero(left_keys)
    parts = [
        ((left_keys[rows_l] >> np.uint64(ROW_BITS)) << np.uint64(ROW_BITS))
        | rows_l.astype(np.uint64)
    ]
    if not same_table:
        rows_r = np.flatnonzero(right_keys)
        parts.append(
            ((right_keys[rows_r] >> np.uint64(ROW_BITS)) << np.uint64(ROW_BITS))
            | (rows_r + n_left).astype(np.uint64)
        )
    packed = np.sort(np.concatenate(parts))
    mask = np.uint64((1 << ROW_BITS) - 1)
    rows = (packed & mask).astype(np.int64)
    keys = packed >> np.uint64(ROW_BITS)
    if not len(keys):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    starts = np.concatenate([[0], np.flatnonzero(keys[1:] != keys[:-1]) + 1])
    ends = np.concatenate([starts[1:], [len(keys)]])
    if same_table:
        n_l = n_r = ends - starts
        start_r = starts
    else:
        # Left rows sort before right rows within a key: count them by a running sum.
        is_left = np.concatenate([[0], np.cumsum(rows < n_left)])
        n_l = is_left[ends] - is_left[starts]
        n_r = ends - starts - n_l
        start_r = starts + n_l
    sizes = n_l * n_r
    keep = (sizes > 0) & (sizes <= MAX_BLOCK_PAIRS)
    if same_table:
        keep &= n_l > 1
    starts, start_r, n_l, n_r, sizes = (
        starts[keep],
        start_r[keep],
        n_l[keep],
        n_r[keep],
        sizes[keep],
    )
    block = np.repeat(np.arange(len(sizes)), sizes)
    offset = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    li = rows[starts[block] + offset // n_r[block]]
    ri = rows[start_r[block] + offset % n_r[block]]
    if same_table:
        keep_pairs = li < ri
        return li[keep_pairs], ri[keep_pairs]
    return li, ri - n_left


def candidate_pairs(
    left: Prepared, right: Prepared, *, same_table: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs that share at least one blocking key, each pair once: a pair found by a key
    is dropped when it also shares one of the keys looked at before.

    A right record whose valid ID number is found on the left is settled by it: the other
    keys are not looked up for it (most records of a county's lists are), which keeps the
    sorts to the records that need them."""
    found_l, found_r = [], []
    settled = np.zeros(len(right), dtype=bool)
    for k, key in enumerate(BLOCKING_KEYS):
        right_keys = right.keys[key]
        if k and not same_table:
            right_keys = np.where(settled, np.uint64(0), right_keys)
        li, ri = key_pairs(left.keys[key], right_keys, same_table=same_table)
        new = np.ones(len(li), dtype=bool)
        for earlier in BLOCKING_KEYS[:k]:
            kl, kr = left.keys[earlier][li], right.keys[earlier][ri]
            new &= ~((kl == kr) & (kl != 0))
        found_l.append(li[new])
        found_r.append(ri[new])
        if key == "id" and not same_table:
            settled[ri[left.id_valid[li] & right.id_valid[ri]]] = True
    return np.concatenate(found_l), np.concatenate(found_r)


def learn(a: Prepared, b: Prepared, levels: np.ndarray) -> Model:
    """EM on the candidate pairs when there are enough of them, else the default model."""
    if len(levels) < MIN_PAIRS_TO_LEARN or min(len(a), len(b)) < MIN_RECORDS_TO_LEARN:
        return default_model()
    return fit(levels, name_agreement(a, b))


def name_agreement(a: Prepared, b: Prepared) -> float:
    """The chance that two records drawn at random, one from each table, have the same name:
    the sum over names of (share on the left × share on the right)."""
    size = len(a.names.length)
    left = np.bincount(a.name[a.name >= 0], minlength=size).astype(float)
    right = np.bincount(b.name[b.name >= 0], minlength=size).astype(float)
    return float((left @ right) / max(len(a) * len(b), 1))


def village_namesakes(table: Prepared) -> np.ndarray:
    """Per row: how many rows of the table have the same name and the same village."""
    key = mix(table.name_hash, table.village_only)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return np.where(key != 0, counts[inverse.ravel()], 0)


def name_counts(table: Prepared) -> np.ndarray:
    """Per row: how many rows of the table carry the same name."""
    counts = np.bincount(np.maximum(table.name, 0), minlength=len(table.names.length))
    return np.where(table.name >= 0, counts[np.maximum(table.name, 0)], 0)


def score(left: Any, right: Any) -> Scored:
    a, b = prepare_both(left, right)
    li, ri = candidate_pairs(a, b)
    levels = compare_all(a, b, li, ri)
    model = learn(a, b, levels)
    counts = name_counts(a)
    weight = pair_weights(model, levels, counts[li] / max(len(a), 1), village_namesakes(a)[li])
    return Scored(a, b, li, ri, levels, weight, model, counts)


ID_COLUMN = COMPARISONS.index(ID)
NAME_COLUMN = COMPARISONS.index(NAME)
PHONE_COLUMN = COMPARISONS.index(PHONE)
BIRTH_COLUMN = COMPARISONS.index(BIRTH)
VILLAGE_COLUMN = COMPARISONS.index(VILLAGE)
EMPLOYER_COLUMN = COMPARISONS.index(EMPLOYER)


def may_match(levels: np.ndarray) -> np.ndarray:
    """Pairs a ``match`` decision is allowed for, whatever the weights say; the rest go to
    review. Two different valid ID numbers are different people; and without agreeing ID
    numbers, names must sound the same (王建国/王建军 of one village and birthday are twins,
    not one person) — unless the phone, or the birthday, village and employer all agree."""
    id_level, name_level = levels[:, ID_COLUMN], levels[:, NAME_COLUMN]
    id_agrees = (id_level == 1) | (id_level == 2)
    name_sounds_same = (name_level >= 1) & (name_level <= 3)
    # One character typed wrongly, with the same phone number, or with the same birthday,
    # village and employer: a typo, not a twin.
    same_life = (
        (levels[:, BIRTH_COLUMN] == 1)
        & np.isin(levels[:, VILLAGE_COLUMN], (1, 2))
        & np.isin(levels[:, EMPLOYER_COLUMN], (1, 2))
    )
    typo = (name_level == 4) & ((levels[:, PHONE_COLUMN] == 1) | same_life)
    return (id_level != 4) & (id_agrees | name_sounds_same | typo)


def _firsts(positions: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """Of positions sorted by right row, the first of each right row."""
    if not len(positions):
        return positions
    r = ri[positions]
    return positions[np.concatenate([[True], r[1:] != r[:-1]])]


def assign(
    ri: np.ndarray, li: np.ndarray, weight: np.ndarray, sure: np.ndarray, strong: np.ndarray
) -> np.ndarray:
    """Which candidate pairs remain possible once left records are claimed one to one.

    Pairs are sorted by right row, best first. Each right record points at its best remaining
    left record. A left record that a pair good enough for a ``match`` points at is taken by
    the strongest such pair; a right record whose best is only a weaker pair to a taken left
    record moves on to its next candidate (a namesake already accounted for is not a reason to
    doubt). Pairs good enough for a match, or whose ID numbers agree, are never moved: the same
    person may be entered twice on the right."""
    alive = np.ones(len(ri), dtype=bool)
    for _ in range(6):
        chosen = _firsts(np.flatnonzero(alive), ri)
        claims = chosen[sure[chosen]]
        if not len(claims):
            break
        claimed_by = np.full(int(li.max()) + 1, -1, dtype=np.int64)
        claimed_by[li[claims]] = ri[claims]
        # Only left records claimed more than once need sorting out (the strongest wins).
        contested = np.bincount(li[claims], minlength=len(claimed_by))[li[claims]] > 1
        several = claims[contested]
        by_left = several[np.lexsort((-weight[several], li[several]))]
        winners = _firsts(by_left, li)
        claimed_by[li[winners]] = ri[winners]
        owner = claimed_by[li[chosen]]
        losers = chosen[(owner >= 0) & (owner != ri[chosen]) & ~strong[chosen] & ~sure[chosen]]
        if not len(losers):
            break
        alive[losers] = False
    return alive


def best_links(scored: Scored, thresholds: Thresholds) -> pl.DataFrame:
    """The best left row per right row, with a decision; rows below review are dropped."""
    order = np.lexsort((-scored.weight, scored.ri))
    li, ri, weight = scored.li[order], scored.ri[order], scored.weight[order]
    levels = scored.levels[order]
    sure = (probability(weight) >= thresholds.match) & may_match(levels)
    strong = np.isin(levels[:, ID_COLUMN], (1, 2))
    alive = assign(ri, li, weight, sure, strong)
    positions = np.flatnonzero(alive)
    best = _firsts(positions, ri)
    # The runner-up: the next remaining candidate of the same right record.
    following = np.searchsorted(positions, best) + 1
    has_next = following < len(positions)
    runner = np.where(has_next, positions[np.minimum(following, len(positions) - 1)], -1)
    has_next &= (runner >= 0) & (ri[np.maximum(runner, 0)] == ri[best])
    second_weight = np.where(has_next, weight[np.maximum(runner, 0)], -np.inf)
    # A runner-up with the same ID number as the best is the same person listed twice.
    same_person = has_next & (
        (scored.left.id_hash[li[best]] == scored.left.id_hash[li[np.maximum(runner, 0)]])
        & (scored.left.id_hash[li[best]] != 0)
    )
    li, ri, weight, levels = li[best], ri[best], weight[best], levels[best]
    score_ = probability(weight)
    second_score = probability(second_weight)
    ambiguous = (
        (second_score >= thresholds.review)
        & (weight - second_weight < thresholds.ambiguity_bits)
        & ~same_person
    )
    allowed = may_match(levels)
    decision = np.where(
        (score_ >= thresholds.match) & ~ambiguous & allowed,
        MATCH,
        np.where(score_ >= thresholds.review, REVIEW, ""),
    )
    held = (score_ >= thresholds.match) & ~allowed
    wanted = decision != ""
    rows, right_rows = li[wanted], ri[wanted]
    left_frame, right_frame = scored.left.frame, scored.right.frame
    names = scored.left.names.text
    left_name = names.gather(np.maximum(scored.left.name[rows], 0))
    right_name = names.gather(np.maximum(scored.right.name[right_rows], 0))
    kept = levels[wanted]
    table = pl.DataFrame(
        {
            "left_row": rows,
            "right_row": right_rows,
            "left_id": left_frame["record_id"].gather(rows),
            "right_id": right_frame["record_id"].gather(right_rows),
            "score": np.round(score_[wanted], 6),
            "weight": np.round(weight[wanted], 3),
            "decision": pl.Series(decision[wanted], dtype=pl.String),
            "reasons": reason_column(
                kept,
                ambiguous[wanted],
                held[wanted],
                scored.name_count[rows],
                left_name,
                right_name,
            ),
        }
        | {c.field: kept[:, k] for k, c in enumerate(COMPARISONS)},
    )
    return table


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
    table: Any, *, side: str, thresholds: Thresholds | None = None
) -> list[DuplicateGroup]:
    """Groups of records in one table that are the same person (a ``match`` between them)."""
    thresholds = thresholds or Thresholds()
    prepared = prepare_one(table)
    if len(prepared) < 2:
        return []
    li, ri = candidate_pairs(prepared, prepared, same_table=True)
    if not len(li):
        return []
    levels = compare_all(prepared, prepared, li, ri)
    model = learn(prepared, prepared, levels)
    counts = name_counts(prepared)
    weight = pair_weights(model, levels, counts[li] / len(prepared))
    sure = (probability(weight) >= thresholds.match) & may_match(levels)
    groups = _groups(len(prepared), li[sure], ri[sure], probability(weight[sure]))
    ids = prepared.frame["record_id"].to_list()
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

#: Every field but the record's own id.
CONFLICT_FIELDS = list(COLUMNS[1:])


def _conflicts(linkage: Linkage) -> list[Conflict]:
    matched = linkage.links.filter(pl.col("decision") == MATCH)
    if matched.is_empty():
        return []
    left = linkage.scored.left
    right = linkage.scored.right
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
        lv = read_values(left, field_name, left_rows[differs])
        rv = read_values(right, field_name, right_rows[differs])
        for lid, rid, a, b in zip(
            matched["left_id"].to_numpy()[differs],
            matched["right_id"].to_numpy()[differs],
            lv,
            rv,
            strict=True,
        ):
            found.append(Conflict(str(lid), str(rid), field_name, a, b))
    return found


def read_values(table: Prepared, field_name: str, rows: np.ndarray) -> list[str]:
    """The values as written; a birth date or sex read from the ID number where none was."""
    written = table.frame[field_name].gather(rows).to_list()
    if field_name == "birth_date":
        days = table.birth[rows]
        derived = [
            "" if d == MISSING_DATE else str(np.datetime64(int(d), "D")) for d in days.tolist()
        ]
        return [w or d for w, d in zip(written, derived, strict=True)]
    if field_name == "sex":
        derived = [{1: "男", 2: "女"}.get(x, "") for x in table.sex[rows].tolist()]
        return [w or d for w, d in zip(written, derived, strict=True)]
    return [w or "" for w in written]


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
