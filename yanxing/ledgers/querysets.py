from __future__ import annotations

from django.db.models import Q

from yanxing.core.paths import any_subtree_q
from yanxing.core.querysets import ScopedQuerySet


class OrganizationOwnedQuerySet(ScopedQuerySet):
    """Rows that belong to one organization: visible in that organization's ancestors' scopes."""

    def scope_q(self, roots: list[str]) -> Q:
        return any_subtree_q("organization__path", roots)
