"""Ledgers kept outside the member registry (the lists host organizations send in) and the
batches that import ledger files."""

from __future__ import annotations

from django.conf import settings
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


class ImportBatch(TimeStampedModel):
    """One uploaded ledger file, from upload through checking and confirmation to its result.

    Row problems are kept as message codes with row numbers (no plain ID or phone numbers);
    the rows themselves live encrypted in `ImportPayload` only while they are needed.
    """

    class Kind(models.TextChoices):
        MEMBERS = "members", _("党员信息台账")
        HOST_ROSTER = "host_roster", _("流入党员名单")

    class Status(models.TextChoices):
        PENDING = "pending", _("校验中")
        VALIDATED = "validated", _("待确认")
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        CANCELLED = "cancelled", _("已取消")

    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="import_batches",
        verbose_name=_("党组织"),
    )
    kind = models.CharField(_("台账类型"), max_length=20, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("上传人"),
    )
    file_name = models.CharField(_("文件名"), max_length=255)
    file_size = models.PositiveIntegerField(_("文件大小"), default=0)
    #: Where the rows came from: format, sheet, encoding, header row, ignored columns.
    source = models.JSONField(_("文件信息"), default=dict, blank=True)
    #: host_roster: the file is the organization's whole list (records not in it are marked).
    full_list = models.BooleanField(_("完整名单"), default=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    heartbeat_at = models.DateTimeField(_("最近进展"), null=True, blank=True)
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    valid_rows = models.PositiveIntegerField(_("通过校验"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    unchanged_count = models.PositiveIntegerField(_("未变"), default=0)
    failed_count = models.PositiveIntegerField(_("失败"), default=0)
    deactivated_count = models.PositiveIntegerField(_("标记为不在名单中"), default=0)
    #: host_roster: some rows failed, so records missing from the file were left as they were.
    deactivation_skipped = models.BooleanField(_("未处理名单外记录"), default=False)
    row_errors = models.JSONField(_("行错误"), default=list, blank=True)
    failure_reason = models.TextField(_("失败原因"), blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("确认人"),
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始导入"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = OrganizationOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("台账导入批次")
        verbose_name_plural = _("台账导入批次")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_working(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)


class ImportPayload(models.Model):
    """The rows of a batch's file, encrypted, kept while the batch needs them: until it is
    imported (then only the failed rows, for the error workbook), cancelled or expired."""

    batch = models.OneToOneField(
        ImportBatch, on_delete=models.CASCADE, primary_key=True, related_name="payload"
    )
    content = EncryptedTextField(purpose="ledgers.import_payload.content")

    class Meta:
        verbose_name = _("导入数据")
        verbose_name_plural = _("导入数据")

    def __str__(self) -> str:
        return f"payload of batch {self.batch_id}"
