from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from yanxing.access.roles import Action
from yanxing.core.forms import StyledForm, StyledModelForm
from yanxing.orgs.models import HOLDS_MEMBERSHIP, Organization
from yanxing.regions.fields import DivisionField

from .models import Member

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MemberForm(StyledModelForm):
    id_number = forms.CharField(label=_("身份证号"), max_length=20, required=False)
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    home_division = DivisionField(label=_("户籍所在村（社区）"), required=False)
    destination = DivisionField(label=_("流向地"), required=False, max_level=3)

    class Meta:
        model = Member
        fields = [
            "name",
            "id_number",
            "phone",
            "category",
            "joined_on",
            "home_org",
            "home_division",
            "mobility_status",
            "destination",
            "destination_detail",
            "left_on",
            "employer",
            "industry",
            "wish_return_business",
            "wish_village_cadre",
        ]
        widgets = {"joined_on": DATE, "left_on": DATE}

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["home_org"]
        ).queryset = Organization.objects.visible_to(actor, Action.MEMBERS_CHANGE).filter(
            status="active", kind__in=list(HOLDS_MEMBERSHIP)
        )
        if self.instance.pk:
            # The membership relation moves through a transfer, not through editing.
            del self.fields["home_org"]
            self.fields["id_number"].widget = forms.TextInput(
                attrs={"class": "form-control", "placeholder": self.instance.id_masked}
            )
            self.fields["id_number"].help_text = _("留空表示不修改；如需更正请输入完整号码。")
            self.fields["phone"].widget = forms.TextInput(
                attrs={"class": "form-control", "placeholder": self.instance.phone_masked}
            )
            self.fields["phone"].help_text = _("留空表示不修改。")
            self.initial["id_number"] = ""
            self.initial["phone"] = ""

    def service_fields(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "home_org"}
        if self.instance.pk:
            for secret in ("id_number", "phone"):
                if not data.get(secret):
                    data.pop(secret, None)
        return data


class LostContactForm(StyledForm):
    since = forms.DateField(label=_("失联日期"), widget=DATE)
    note = forms.CharField(
        label=_("已尝试的联系方式及情况"), widget=forms.Textarea(attrs={"rows": 3}), max_length=200
    )


class RestoreContactForm(StyledForm):
    on = forms.DateField(label=_("恢复联系日期"), widget=DATE)
    how = forms.CharField(label=_("如何恢复联系"), max_length=200)


class ParticipationForm(StyledForm):
    organization = forms.ModelChoiceField(
        label=_("参加组织生活的党组织"), queryset=Organization.objects.none()
    )
    started_on = forms.DateField(label=_("开始日期"), widget=DATE)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["organization"]
        ).queryset = Organization.objects.visible_to(actor, Action.MEMBERS_CHANGE).filter(
            status="active"
        )
