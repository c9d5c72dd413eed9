from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from yanxing.access.roles import Action
from yanxing.core.paths import subtree_q
from yanxing.members.models import Member, Participation

from .models import Organization


def orgs_for(actor: Any, action: str = Action.ORGS_VIEW) -> QuerySet[Organization]:
    return Organization.objects.visible_to(actor, action).select_related(
        "host_division", "division"
    )


def org_stats(actor: Any, org: Organization) -> dict[str, int]:
    """Counts for an organization's subtree, only over members the actor may see."""
    visible = Member.objects.visible_to(actor, Action.MEMBERS_VIEW).filter(is_active=True)
    subtree = Organization.objects.filter(subtree_q("path", org.path)).values("id")
    home = visible.filter(home_org__in=subtree)
    counts = home.aggregate(
        total=Count("id"),
        away=Count("id", filter=Q(mobility_status="away")),
        lost=Count("id", filter=Q(contact_state="lost")),
    )
    counts["hosted"] = visible.filter(
        pk__in=Participation.objects.filter(organization__in=subtree, ended_on__isnull=True).values(
            "member_id"
        )
    ).count()
    counts["children"] = Organization.objects.filter(parent=org).count()
    return counts
