from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from yanxing.access.roles import Action
from yanxing.core.forms import StyledForm
from yanxing.orgs.models import Organization

from . import schedule


class StartRunForm(StyledForm):
    home_org = forms.ModelChoiceField(
        label=_("流出地党组织"),
        queryset=Organization.objects.none(),
        help_text=_("对比其下各级党组织外出党员的台账。"),
    )
    hosts = forms.ModelMultipleChoiceField(
        label=_("流入地党组织"),
        queryset=Organization.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("对比其系统内党员和导入的流入党员名单。"),
    )
    quarter = forms.ChoiceField(label=_("季度"))

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = Organization.objects.visible_to(actor, Action.RECONCILE).active()
        cast(forms.ModelChoiceField, self.fields["home_org"]).queryset = scope.filter(
            is_external=False
        )
        cast(forms.ModelMultipleChoiceField, self.fields["hosts"]).queryset = scope.filter(
            is_external=True
        )
        quarters = schedule.recent_quarters()
        cast(forms.ChoiceField, self.fields["quarter"]).choices = [(q, q) for q in quarters]
        self.fields["quarter"].initial = quarters[0]
        self.fields["hosts"].widget.attrs["class"] = "form-check-input"


class SignOffForm(StyledForm):
    organization = forms.TypedChoiceField(label=_("签字党组织"), coerce=int)
    note = forms.CharField(label=_("意见"), required=False, max_length=200)

    def __init__(self, *args: Any, organizations: list[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["organization"]).choices = [
            (org.pk, org.name) for org in organizations
        ]

    @staticmethod
    def chosen_from(data: dict[str, Any], organizations: list[Organization]) -> Organization:
        return next(org for org in organizations if org.pk == data["organization"])


class BulkForm(forms.Form):
    decision = forms.ChoiceField(choices=[("confirm", "confirm"), ("reject", "reject")])
    pairs = forms.TypedMultipleChoiceField(
        coerce=int, choices=[], error_messages={"required": _("请先勾选要处理的配对。")}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id is accepted here; the service keeps only the pairs the actor may decide on.
        values = self.data.getlist("pairs") if hasattr(self.data, "getlist") else []
        cast(forms.TypedMultipleChoiceField, self.fields["pairs"]).choices = [
            (v, v) for v in values if str(v).isdigit()
        ]
