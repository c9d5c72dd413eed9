"""ScopedQuerySet: the one place where "who may see what" turns into SQL.

Every organization-owned model uses a subclass and says how a set of granted subtree paths maps
to its rows (`scope_q`). Views, API viewsets, exports and selectors start from
`Model.objects.visible_to(user, action)`; nothing filters by hand.
"""

from __future__ import annotations

from typing import Any, Self

from django.db import models
from django.db.models import Q


class ScopedQuerySet(models.QuerySet[Any]):
    #: Registry key for the meta-test that demands a cross-organization test per scoped model.
    scoped = True

    def scope_q(self, roots: list[str]) -> Q:
        raise NotImplementedError

    def visible_to(self, user: Any, action: str) -> Self:
        from yanxing.access.policy import granted_roots

        roots = granted_roots(user, action)
        if not roots:
            return self.none()
        return self.filter(self.scope_q(roots))
