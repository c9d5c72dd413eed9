"""Writing audit records. Called from domain services inside their transaction."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from .models import AccessLog, ChainedRecord, ChainHead, Event

HASHED_FIELDS = [
    "created_at",
    "actor_id",
    "actor_label",
    "org_path",
    "target_type",
    "target_id",
    "target_label",
    "ip",
]


def record_digest(record: ChainedRecord, extra: list[str]) -> str:
    payload = {name: getattr(record, name) for name in HASHED_FIELDS + extra}
    payload["prev_hash"] = record.prev_hash
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


EXTRA_FIELDS: dict[type[ChainedRecord], list[str]] = {
    Event: ["verb", "summary", "data"],
    AccessLog: ["action", "fields", "row_count", "reason"],
}


def _append(record: ChainedRecord) -> ChainedRecord:
    chain = type(record).__name__
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(name=chain)
        record.created_at = timezone.now()
        record.prev_hash = head.last_hash
        record.hash = record_digest(record, EXTRA_FIELDS[type(record)])
        record.save(force_insert=True)
        head.last_hash = record.hash
        head.save(update_fields=["last_hash"])
    return record


def _common(
    actor: Any, target: models.Model | None, organization: Any, ip: str | None
) -> dict[str, Any]:
    return {
        "actor": actor if getattr(actor, "pk", None) else None,
        "actor_label": str(actor) if getattr(actor, "pk", None) else "系统",
        "organization": organization,
        "org_path": getattr(organization, "path", "") or "",
        "target_type": target._meta.label_lower if target is not None else "",
        "target_id": str(target.pk) if target is not None else "",
        "target_label": str(target)[:150] if target is not None else "",
        "ip": ip,
    }


def record_event(
    *,
    actor: Any,
    verb: str,
    target: models.Model | None = None,
    organization: Any = None,
    summary: str = "",
    data: dict[str, Any] | None = None,
    ip: str | None = None,
) -> Event:
    event = Event(
        verb=verb,
        summary=summary[:300],
        data=data or {},
        **_common(actor, target, organization, ip),
    )
    return _append(event)  # type: ignore[return-value]


def record_access(
    *,
    actor: Any,
    action: str,
    fields: list[str],
    target: models.Model | None = None,
    organization: Any = None,
    row_count: int = 1,
    reason: str = "",
    ip: str | None = None,
) -> AccessLog:
    entry = AccessLog(
        action=action,
        fields=",".join(fields),
        row_count=row_count,
        reason=reason[:200],
        **_common(actor, target, organization, ip),
    )
    return _append(entry)  # type: ignore[return-value]


def verify_chain(model: type[ChainedRecord]) -> list[int]:
    """Ids of rows whose hash or link does not hold (empty when the chain is intact)."""
    broken: list[int] = []
    prev: str | None = None  # the oldest kept row anchors the chain (older rows may be purged)
    for record in model.objects.order_by("id").iterator():
        if (prev is not None and record.prev_hash != prev) or record.hash != record_digest(
            record, EXTRA_FIELDS[model]
        ):
            broken.append(record.pk)
        prev = record.hash
    head = ChainHead.objects.filter(name=model.__name__).first()
    last = model.objects.order_by("-id").first()
    if head is not None and (last is None or last.hash != head.last_hash):
        # Rows removed from the end of the chain: the head still names the lost last hash.
        broken.append(last.pk if last is not None else 0)
    return broken
