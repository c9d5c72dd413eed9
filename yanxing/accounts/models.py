from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class User(AbstractUser):
    """A staff account (password + optional TOTP) or a member account (phone + one-time code)."""

    class Kind(models.TextChoices):
        STAFF = "staff", _("工作人员")
        MEMBER = "member", pgettext_lazy("singular", "党员")

    kind = models.CharField(_("账户类型"), max_length=16, choices=Kind.choices, default=Kind.STAFF)
    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    member = models.OneToOneField(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account",
        verbose_name=_("党员档案"),
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="staff") | models.Q(member__isnull=False),
                name="member_account_has_member",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_member_account(self) -> bool:
        return self.kind == self.Kind.MEMBER


class PhoneCode(models.Model):
    """A one-time sign-in code sent by SMS. Only keyed hashes of phone and code are stored."""

    phone_hash = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["ip", "created_at"])]

    def __str__(self) -> str:
        return f"code {self.pk} ({self.created_at:%Y-%m-%d %H:%M})"
