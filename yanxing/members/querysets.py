"""Member visibility: the home organization's subtree, plus the subtrees of host organizations
the member currently takes part in (active participation)."""

from __future__ import annotations

from django.apps import apps
from django.db.models import Exists, OuterRef, Q

from yanxing.core.paths import any_subtree_q
from yanxing.core.querysets import ScopedQuerySet


def _orgs_in(roots: list[str]):
    organization = apps.get_model("orgs", "Organization")
    return organization.objects.filter(any_subtree_q("path", roots)).values("id")


class MemberQuerySet(ScopedQuerySet):
    def scope_q(self, roots: list[str]) -> Q:
        participation = apps.get_model("members", "Participation")
        hosted = participation.objects.filter(
            member=OuterRef("pk"), ended_on__isnull=True, organization__in=_orgs_in(roots)
        )
        return Q(home_org__in=_orgs_in(roots)) | Q(Exists(hosted))


class ParticipationQuerySet(ScopedQuerySet):
    def scope_q(self, roots: list[str]) -> Q:
        member = apps.get_model("members", "Member")
        visible_members = member.objects.filter(member.objects.none().scope_q(roots)).values("id")
        return Q(member__in=visible_members)

    def active(self) -> ParticipationQuerySet:
        return self.filter(ended_on__isnull=True)
