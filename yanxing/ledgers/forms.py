from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from yanxing.core.forms import StyledForm
from yanxing.orgs.models import Organization

from . import selectors
from .kinds import KIND_CHOICES, MEMBERS
from .reading import EXTENSIONS, Limits, ReadError, size_text


class UploadForm(StyledForm):
    kind = forms.ChoiceField(label=_("台账类型"), choices=KIND_CHOICES)
    organization: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("导入到党组织"), queryset=Organization.objects.none()
    )
    file = forms.FileField(label=_("文件"))
    full_list = forms.BooleanField(
        label=_("这是完整名单：名单外的记录标记为“不在名单中”"),
        required=False,
        initial=True,
        help_text=_("仅用于流入党员名单。只上传部分人员（例如修改后的错误行）时请取消勾选。"),
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        cast(
            forms.ModelChoiceField, self.fields["organization"]
        ).queryset = selectors.import_organizations(actor)
        limits = Limits.from_settings()
        self.fields["file"].widget.attrs["accept"] = ",".join(EXTENSIONS)
        self.fields["file"].help_text = _(
            ".xlsx、.xls 或 .csv（UTF-8 或 GB18030 编码），不超过 %(size)s、%(rows)s 行。"
        ) % {"size": size_text(limits.max_bytes), "rows": limits.max_rows}

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        limits = Limits.from_settings()
        if not (upload.name or "").lower().endswith(EXTENSIONS):
            raise forms.ValidationError(str(ReadError("extension")))
        if (upload.size or 0) > limits.max_bytes:
            raise forms.ValidationError(
                str(ReadError("too_big", limit=size_text(limits.max_bytes)))
            )
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        org = data.get("organization")
        if data.get("kind") == MEMBERS.code and org is not None:
            allowed = selectors.member_ledger_organizations(self.actor)
            if not allowed.filter(pk=org.pk).exists():
                self.add_error(
                    "organization",
                    _(
                        "党员信息台账只能导入到你可以管理党员、并能接收组织关系的党组织"
                        "（党委、党总支或建制型党支部）。"
                    ),
                )
        return data
