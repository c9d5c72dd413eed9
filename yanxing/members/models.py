"""The member registry. Personal identifiers are encrypted; lookups go through keyed hashes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from yanxing.core.fields import EncryptedTextField
from yanxing.core.models import TimeStampedModel

from .choices import Category, ContactState, Industry, MobilityStatus, Sex, Wish
from .querysets import MemberQuerySet, ParticipationQuerySet

SENSITIVE_FIELDS = ["id_number", "phone", "sensitive_notes"]


class Member(TimeStampedModel):
    name = models.CharField(_("姓名"), max_length=60)
    name_pinyin = models.CharField(_("姓名拼音"), max_length=120, db_index=True, editable=False)
    name_initials = models.CharField(_("拼音首字母"), max_length=20, db_index=True, editable=False)

    id_number = EncryptedTextField(_("身份证号"), purpose="member.id_number")
    id_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_masked = models.CharField(
        _("身份证号（脱敏）"), max_length=18, blank=True, db_index=True, editable=False
    )
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)

    phone = EncryptedTextField(_("手机号"), purpose="member.phone")
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("手机号（脱敏）"), max_length=11, blank=True, editable=False)

    category = models.CharField(
        _("党员类别"), max_length=16, choices=Category.choices, default=Category.FULL
    )
    joined_on = models.DateField(_("入党日期"), null=True, blank=True)
    home_org = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="home_members",
        verbose_name=_("组织关系所在党组织"),
    )
    home_division = models.ForeignKey(
        "regions.Division",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("户籍所在村（社区）"),
    )

    mobility_status = models.CharField(
        _("流动状态"), max_length=16, choices=MobilityStatus.choices, default=MobilityStatus.LOCAL
    )
    destination = models.ForeignKey(
        "regions.Division",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("流向地"),
    )
    destination_detail = models.CharField(_("流向详细地址"), max_length=200, blank=True)
    left_on = models.DateField(_("外出日期"), null=True, blank=True)
    employer = models.CharField(_("工作单位"), max_length=120, blank=True)
    industry = models.CharField(_("从事行业"), max_length=2, choices=Industry.choices, blank=True)

    wish_return_business = models.CharField(
        _("返乡创业意愿"), max_length=16, choices=Wish.choices, default=Wish.UNKNOWN
    )
    wish_village_cadre = models.CharField(
        _("担任村干部意愿"), max_length=16, choices=Wish.choices, default=Wish.UNKNOWN
    )

    contact_state = models.CharField(
        _("联系状态"), max_length=16, choices=ContactState.choices, default=ContactState.IN_CONTACT
    )
    lost_since = models.DateField(_("失联日期"), null=True, blank=True)
    lost_note = models.CharField(_("失联情况说明"), max_length=200, blank=True)
    last_contact_on = models.DateField(_("最近联系日期"), null=True, blank=True)

    sensitive_notes = EncryptedTextField(
        _("敏感备注（健康、困难等）"), purpose="member.sensitive_notes"
    )
    is_active = models.BooleanField(_("在册"), default=True)

    history = HistoricalRecords(
        excluded_fields=[
            "id_number",
            "id_hash",
            "phone",
            "phone_hash",
            "sensitive_notes",
            "updated_at",
            "name_pinyin",
            "name_initials",
        ]
    )
    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["name_pinyin", "id"]
        verbose_name = pgettext_lazy("singular", "党员")
        verbose_name_plural = _("党员")
        constraints = [
            models.UniqueConstraint(
                fields=["id_hash"], condition=~models.Q(id_hash=""), name="unique_member_id_number"
            ),
        ]
        indexes = [
            # Ends with id so that the scope query (members by home organization) reads the
            # index alone on PostgreSQL, and a home organization's list comes out in page order.
            models.Index(fields=["home_org", "name_pinyin", "id"]),
            models.Index(fields=["mobility_status", "home_org"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def four_clears(self) -> dict[str, bool]:
        """四个清楚: destination, employment, wish to start a business, wish to be a village cadre."""
        return {
            "destination": self.mobility_status == MobilityStatus.LOCAL
            or self.destination_id is not None,
            "employment": bool(self.employer),
            "return_business": self.wish_return_business != Wish.UNKNOWN,
            "village_cadre": self.wish_village_cadre != Wish.UNKNOWN,
        }

    @property
    def four_clears_done(self) -> bool:
        return all(self.four_clears.values())


class Participation(TimeStampedModel):
    """A member takes part in the organizational life of an organization (组织生活多重参加)."""

    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="participations",
        verbose_name=pgettext_lazy("singular", "党员"),
    )
    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="participations",
        verbose_name=_("参加组织生活的党组织"),
    )
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = ParticipationQuerySet.as_manager()

    class Meta:
        verbose_name = _("组织生活参加")
        verbose_name_plural = _("组织生活参加")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "organization"],
                condition=models.Q(ended_on__isnull=True),
                name="one_active_participation_per_org",
            ),
        ]
        # Ends with member so that the scope query (active participations by organization)
        # reads the index alone.
        indexes = [models.Index(fields=["organization", "ended_on", "member"])]

    def __str__(self) -> str:
        return f"{self.member} @ {self.organization}"
