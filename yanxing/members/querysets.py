"""Member visibility: the home organization's subtree, plus the subtrees of host organizations
the member currently takes part in (active participation)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Q

from yanxing.core.paths import any_subtree_q, depth_of
from yanxing.core.querysets import ScopedQuerySet


def _orgs_in(roots: list[str]) -> Any:
    organization = apps.get_model("orgs", "Organization")
    return organization.objects.filter(any_subtree_q("path", roots)).values("id")


def member_ids_in(roots: list[str]) -> Any:
    """Subquery of the ids of members homed in, or currently taking part in, the subtrees.

    Written as a UNION of two index lookups (members by home organization, active
    participations by organization) rather than `home_org IN (...) OR EXISTS (...)`: with the
    OR, SQLite and PostgreSQL scan every member and probe the participation subquery per row,
    which takes seconds at a province's size; the UNION reads only the rows in scope.
    """
    member = apps.get_model("members", "Member")
    participation = apps.get_model("members", "Participation")
    orgs = _orgs_in(roots)
    homed = member.objects.filter(home_org__in=orgs).order_by().values("id")
    hosted = (
        participation.objects.filter(ended_on__isnull=True, organization__in=orgs)
        .order_by()
        .values("member_id")
    )
    return homed.union(hosted)


def covers_every_organization(roots: list[str]) -> bool:
    """Do the subtrees at `roots` hold every organization (each top-level one is a root)?

    Then every member is in scope, since every member has a home organization. Only a
    one-segment path can cover a top-level organization, so actors without such a grant cost
    no query.
    """
    top = [root for root in roots if depth_of(root) == 1]
    if not top:
        return False
    organization = apps.get_model("orgs", "Organization")
    return not organization.objects.filter(parent__isnull=True).exclude(path__in=top).exists()


class MemberQuerySet(ScopedQuerySet):
    def scope_q(self, roots: list[str]) -> Q:
        # The whole registry needs no subquery: the UNION would list every member only to
        # match them all again (seconds at a province's size; reading the table is a fraction).
        if covers_every_organization(roots):
            return Q()
        return Q(pk__in=member_ids_in(roots))


class ParticipationQuerySet(ScopedQuerySet):
    def scope_q(self, roots: list[str]) -> Q:
        if covers_every_organization(roots):
            return Q()
        return Q(member__in=member_ids_in(roots))

    def active(self) -> ParticipationQuerySet:
        return self.filter(ended_on__isnull=True)
