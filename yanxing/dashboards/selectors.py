from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from yanxing.access.roles import Action
from yanxing.members.models import Member
from yanxing.orgs.models import Organization


def overview(actor: Any) -> dict[str, Any]:
    """Headline figures over what the actor may see (never more)."""
    members = Member.objects.visible_to(actor, Action.MEMBERS_VIEW).filter(is_active=True)
    counts = members.aggregate(
        total=Count("id"),
        away=Count("id", filter=Q(mobility_status="away")),
        lost=Count("id", filter=Q(contact_state="lost")),
        away_unclear=Count(
            "id",
            filter=Q(mobility_status="away")
            & (
                Q(destination__isnull=True)
                | Q(employer="")
                | Q(wish_return_business="unknown")
                | Q(wish_village_cadre="unknown")
            ),
        ),
    )
    orgs = Organization.objects.visible_to(actor, Action.ORGS_VIEW).active()
    counts["orgs"] = orgs.count()
    counts["external_orgs"] = orgs.filter(is_external=True).count()
    counts["provinces"] = (
        orgs.filter(is_external=True, host_division__isnull=False)
        .values_list("host_division__code", flat=True)
        .distinct()
    )
    counts["provinces"] = len({code[:2] for code in counts["provinces"]})
    top = (
        members.filter(mobility_status="away", destination__isnull=False)
        .values("destination__full_name")
        .annotate(n=Count("id"))
        .order_by("-n")[:8]
    )
    counts["top_destinations"] = list(top)
    return counts
