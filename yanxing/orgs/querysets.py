from __future__ import annotations

from django.db.models import Q

from yanxing.core.paths import any_subtree_q, subtree_q
from yanxing.core.querysets import ScopedQuerySet


class OrganizationQuerySet(ScopedQuerySet):
    def scope_q(self, roots: list[str]) -> Q:
        return any_subtree_q("path", roots)

    def subtree_of(self, path: str) -> OrganizationQuerySet:
        return self.filter(subtree_q("path", path))

    def active(self) -> OrganizationQuerySet:
        return self.filter(status="active")
