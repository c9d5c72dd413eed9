"""Scoped reads of the member registry. First argument is always the actor."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet

from yanxing.access.roles import Action
from yanxing.core import idnumber

from .models import Member
from .normalize import normalize_phone, phone_error

_MASKED_ID = re.compile(r"^[0-9]{0,6}\*+[0-9X]{0,4}$")
_ID_TAIL = re.compile(r"^[0-9]{3}[0-9X]$")
_LATIN = re.compile(r"^[a-z]+$")
#: Not editable, so diff_against skips them; compared by hand so a corrected ID or phone shows.
MASKED_FIELDS = ("id_masked", "phone_masked")


def members_for(actor: Any, action: str = Action.MEMBERS_VIEW) -> QuerySet[Member]:
    # Home organization and destination come in one small query each, for the rows read. Joined
    # into the main query instead, PostgreSQL joins them to every member in scope before it
    # sorts and slices a page: thousands of rows for a county.
    return Member.objects.visible_to(actor, action).prefetch_related("home_org", "destination")


def search_q(term: str) -> Q:
    """One search box: name, pinyin or initials, full ID number, masked ID or its last 4, phone."""
    from .services import id_hash, phone_hash

    term = (term or "").strip()
    if not term:
        return Q()
    upper = idnumber.normalize(term)
    if len(upper) == 18 and re.match(r"^\d{17}[\dX]$", upper):
        return Q(id_hash=id_hash(upper))
    phone = normalize_phone(term)
    if phone.isdigit() and len(phone) == 11 and not phone_error(phone):
        return Q(phone_hash=phone_hash(phone))
    if _MASKED_ID.match(upper):
        head, _, tail = upper.partition("*")
        tail = tail.lstrip("*")
        query = Q()
        if head:
            query &= Q(id_masked__startswith=head[:4])
        if tail:
            query &= Q(id_masked__endswith=tail)
        return query
    if _ID_TAIL.match(upper):
        return Q(id_masked__endswith=upper)
    lowered = term.lower().replace(" ", "")
    if _LATIN.match(lowered):
        return Q(name_pinyin__startswith=lowered) | Q(name_initials__startswith=lowered)
    return Q(name__contains=term)


def search_members(actor: Any, term: str, limit: int = 20) -> list[Member]:
    """Autocomplete: at most `limit` visible members matching `term`."""
    if not term.strip():
        return []
    return list(members_for(actor).filter(search_q(term)).order_by("name_pinyin", "pk")[:limit])


def member_detail(actor: Any, pk: int) -> Member:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(members_for(actor), pk=pk)


def member_history(member: Member) -> list[dict[str, Any]]:
    """Field-level changes, newest first: [{when, who, reason, changes: [(field, old, new)]}]."""
    records = list(
        member.history.select_related("history_user").order_by("-history_date", "-history_id")[:200]
    )
    entries: list[dict[str, Any]] = []
    for record in records:
        previous = record.prev_record
        changes: list[tuple[str, str, str]] = []
        if previous is not None:
            delta = record.diff_against(previous)
            for change in delta.changes:
                field = Member._meta.get_field(change.field)
                changes.append(
                    (
                        str(getattr(field, "verbose_name", change.field)),
                        _display(field, change.old),
                        _display(field, change.new),
                    )
                )
            for name in MASKED_FIELDS:
                old, new = getattr(previous, name), getattr(record, name)
                if old != new:
                    field = Member._meta.get_field(name)
                    changes.append(
                        (str(getattr(field, "verbose_name", name)), old or "—", new or "—")
                    )
        entries.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "type": record.history_type,
                "reason": record.history_change_reason or "",
                "changes": changes,
            }
        )
    return entries


def _display(field: Any, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if getattr(field, "choices", None):
        return str(dict(field.choices).get(value, value))
    if field.is_relation:
        model = field.related_model
        obj = model.objects.filter(pk=value).first()
        return str(obj) if obj else str(value)
    return str(value)
