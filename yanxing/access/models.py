from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yanxing.core.models import TimeStampedModel
from yanxing.core.paths import any_subtree_q
from yanxing.core.querysets import ScopedQuerySet

from .roles import ROLE_CHOICES


class GrantQuerySet(ScopedQuerySet):
    def scope_q(self, roots: list[str]) -> Q:
        return any_subtree_q("organization__path", roots)


class Grant(TimeStampedModel):
    """A role held by a user at an organization; it applies to the organization's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="grants",
        verbose_name=_("用户"),
    )
    role = models.CharField(_("角色"), max_length=32, choices=ROLE_CHOICES)
    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.CASCADE,
        related_name="grants",
        verbose_name=pgettext_lazy("singular", "党组织"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = GrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("授权")
        verbose_name_plural = _("授权")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "organization"], name="unique_grant"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} @ {self.organization}"
