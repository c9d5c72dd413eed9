"""The quarterly schedule: quarters as "2026Q4", and which organizations are overdue.

An organization is overdue when members whose membership it holds are away and no run for the
previous quarter covering it (a run whose home organization is it or one of its ancestors)
has been signed off by every side.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from yanxing.core.paths import any_subtree_q, is_within
from yanxing.members.choices import MobilityStatus
from yanxing.members.models import Member
from yanxing.orgs.models import Organization

QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def parse_quarter(quarter: str) -> tuple[int, int]:
    match = QUARTER.match(quarter or "")
    if not match:
        raise ValueError(f"not a quarter: {quarter!r}")
    return int(match.group(1)), int(match.group(2))


def shift_quarter(quarter: str, by: int) -> str:
    year, number = parse_quarter(quarter)
    index = year * 4 + (number - 1) + by
    return f"{index // 4}Q{index % 4 + 1}"


def current_quarter(today: dt.date | None = None) -> str:
    return quarter_of(today or timezone.localdate())


def previous_quarter(today: dt.date | None = None) -> str:
    return shift_quarter(current_quarter(today), -1)


def recent_quarters(count: int = 5, today: dt.date | None = None) -> list[str]:
    """The current quarter and the ones before it, newest first."""
    now = current_quarter(today)
    return [shift_quarter(now, -k) for k in range(count)]


@dataclass(frozen=True)
class Overdue:
    organization: Organization
    away: int
    quarter: str


def overdue_organizations(roots: list[str], today: dt.date | None = None) -> list[Overdue]:
    """Organizations within `roots` holding away members with no signed-off run for the
    previous quarter covering them, in tree order."""
    from .models import Run

    if not roots:
        return []
    quarter = previous_quarter(today)
    away_by_org: dict[int, int] = {}
    rows: Any = (
        Member.objects.filter(
            any_subtree_q("home_org__path", roots),
            is_active=True,
            mobility_status=MobilityStatus.AWAY,
        )
        .order_by()
        .values_list("home_org_id", flat=True)
    )
    for org_id in rows:
        away_by_org[org_id] = away_by_org.get(org_id, 0) + 1
    if not away_by_org:
        return []
    covered = list(
        Run.objects.filter(quarter=quarter, closed_at__isnull=False)
        .values_list("home_org__path", flat=True)
        .distinct()
    )
    organizations = Organization.objects.filter(pk__in=list(away_by_org)).order_by("path")
    return [
        Overdue(organization=org, away=away_by_org[org.pk], quarter=quarter)
        for org in organizations
        if not is_within(org.path, covered)
    ]
