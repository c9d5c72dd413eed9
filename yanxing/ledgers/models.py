"""Ledgers kept outside the member registry: the lists host organizations send in."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yanxing.core.fields import EncryptedTextField
from yanxing.core.models import TimeStampedModel
from yanxing.members.choices import Sex

from .querysets import OrganizationOwnedQuerySet


class HostRecord(TimeStampedModel):
    """One person on a host organization's list of members who reported in (流入党员名单),
    imported from a file made by another system. Never a member record by itself: a
    reconciliation links it to a member when a person confirms the pair."""

    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="host_records",
        verbose_name=_("流入地党组织"),
    )
    #: Stable key within the organization's list, so that re-importing a file changes nothing:
    #: the ID number's blind index, or a hash of name and phone when the ID is missing.
    record_key = models.CharField(max_length=64, editable=False)
    name = models.CharField(_("姓名"), max_length=60)
    id_number = EncryptedTextField(_("身份证号"), purpose="host_record.id_number")
    id_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_masked = models.CharField(_("身份证号（脱敏）"), max_length=18, blank=True, editable=False)
    phone = EncryptedTextField(_("手机号"), purpose="host_record.phone")
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("手机号（脱敏）"), max_length=11, blank=True, editable=False)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    home_village = models.CharField(_("户籍地"), max_length=120, blank=True)
    city = models.CharField(_("所在城市"), max_length=60, blank=True)
    employer = models.CharField(_("工作单位"), max_length=120, blank=True)
    reported_on = models.DateField(_("报到日期"), null=True, blank=True)
    #: False once the record left the organization's latest list.
    is_active = models.BooleanField(_("在名单中"), default=True)
    #: The member this record was confirmed to be (set by a reconciliation, never guessed).
    member = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="host_records",
        verbose_name=_("对应党员"),
    )

    objects = OrganizationOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("流入党员名单记录")
        verbose_name_plural = _("流入党员名单记录")
        ordering = ["organization", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "record_key"], name="unique_host_record_per_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name
