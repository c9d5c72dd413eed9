"""From the two tables to a run's pairs, conflicts and duplicate groups.

A host-side row that *is* a home-ledger member — the same member record taking part in a host's
life, or a host-list row already confirmed to be that member — is matched by identity (score 1,
confirmed, no merge to make). Every other host-side row goes through the linkage engine with
the whole home ledger.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from yanxing.core.masking import mask_id_number, mask_phone
from yanxing.linkage import FIELD_LABELS, MATCH, LinkResult, link

from .tables import NOTE_LOCAL, NOTE_LOST, Row

REASON_SAME_RECORD = "同一党员档案"
REASON_CONFIRMED_BEFORE = "名单记录已确认为该党员"
#: Fields of our own beyond the engine's: the home ledger's status.
EXTRA_LABELS = {"contact_state": "联系状态", "mobility_status": "流动状态"}
#: Compared on identity and review pairs (the engine compares match pairs itself).
COMPARED = ("phone", "employer", "city")
MASKED_FIELDS = {"phone": mask_phone, "id_number": mask_id_number}


def label_of(field_name: str) -> str:
    return FIELD_LABELS.get(field_name) or EXTRA_LABELS.get(field_name, field_name)


@dataclass
class PairPlan:
    left_key: str
    right_key: str
    score: float
    weight: float
    decision: str  # identity, match, review
    reasons: tuple[str, ...]
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)  # field, left, right
    #: Identity pairs name the one host-side row; engine pairs hold for every row of the key.
    right_org: int | None = None


@dataclass
class Plan:
    pairs: list[PairPlan]
    #: (side, record keys, score)
    duplicates: list[tuple[str, tuple[str, ...], float]]


def display_value(field_name: str, value: str) -> str:
    mask = MASKED_FIELDS.get(field_name)
    return mask(value) if mask else value


def _status_conflicts(left: Row, right: Row) -> list[tuple[str, str, str]]:
    found = []
    on_host = "已在流入地名单中" if right.source == "host_list" else "在流入地参加组织生活"
    notes = left.note.split(",")
    if NOTE_LOST in notes:
        found.append(("contact_state", "失联", on_host))
    if NOTE_LOCAL in notes:
        found.append(("mobility_status", "在本地", on_host))
    return found


def _compare(left: Row, right: Row) -> list[tuple[str, str, str]]:
    found = []
    for name in COMPARED:
        a, b = getattr(left, name).strip(), getattr(right, name).strip()
        if a and b and a != b:
            found.append((name, a, b))
    return found


def plan(left: list[Row], right: list[Row]) -> Plan:
    left_by_member = {row.member_id: row for row in left if row.member_id is not None}
    pairs: list[PairPlan] = []
    to_engine: dict[str, Row] = {}
    for row in right:
        same = None
        reason = ""
        if row.member_id is not None and row.member_id in left_by_member:
            same, reason = left_by_member[row.member_id], REASON_SAME_RECORD
        elif row.confirmed_member_id is not None and row.confirmed_member_id in left_by_member:
            same, reason = left_by_member[row.confirmed_member_id], REASON_CONFIRMED_BEFORE
        if same is not None:
            pairs.append(
                PairPlan(
                    same.key,
                    row.key,
                    1.0,
                    0.0,
                    "identity",
                    (reason,),
                    _compare(same, row) + _status_conflicts(same, row),
                    right_org=row.organization_id,
                )
            )
        else:
            # A member taking part in two chosen hosts is two rows with one key: the engine
            # sees the person once.
            to_engine.setdefault(row.key, row)
    left_rows = {row.key: row for row in left}
    result: LinkResult = link(
        [row.linkage() for row in left_rows.values()],
        [row.linkage() for row in to_engine.values()],
        duplicates=True,
    )
    engine_conflicts: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for conflict in result.conflicts:
        engine_conflicts[(conflict.left_id, conflict.right_id)].append(
            (conflict.field, conflict.left_value, conflict.right_value)
        )
    for item in result.links:
        a, b = left_rows[item.left_id], to_engine[item.right_id]
        if item.decision == MATCH:
            conflicts = engine_conflicts.get((item.left_id, item.right_id), [])
        else:
            conflicts = _compare(a, b)
        pairs.append(
            PairPlan(
                item.left_id,
                item.right_id,
                item.score,
                item.weight,
                item.decision,
                tuple(item.reasons),
                conflicts + _status_conflicts(a, b),
            )
        )
    duplicates = [
        (group.side, tuple(group.record_ids), group.score)
        for group in result.duplicate_groups
        if group.side == "left" or _meaningful_on_host_side(group.record_ids)
    ]
    return Plan(pairs=pairs, duplicates=duplicates)


def _meaningful_on_host_side(keys: Any) -> bool:
    """A member on a host's books and the same person on its list is the expected
    correspondence, not a duplicate; two list rows, or two member records, are."""
    kinds = [key[0] for key in keys]
    return kinds.count("h") > 1 or kinds.count("m") > 1
