from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from yanxing.access.roles import Action
from yanxing.core.forms import StyledForm, StyledModelForm
from yanxing.regions.fields import DivisionField

from .models import Organization, OrgKind

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OrganizationForm(StyledModelForm):
    division = DivisionField(label=_("所在行政区划"), required=False)
    host_division = DivisionField(label=_("驻在地（流入地）"), required=False, max_level=4)

    class Meta:
        model = Organization
        fields = [
            "name",
            "short_name",
            "kind",
            "is_external",
            "host_division",
            "host_basis",
            "division",
            "address",
            "founded_on",
        ]
        widgets = {"founded_on": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [
            c for c in OrgKind.choices if c[0] != OrgKind.COUNTY_DEPARTMENT
        ]
        if self.instance.pk:
            # The kind changes only through conversion (功能型 → 建制型), which keeps history.
            del self.fields["kind"]


class MoveForm(StyledForm):
    new_parent = forms.ModelChoiceField(
        label=_("新的上级党组织"), queryset=Organization.objects.none()
    )

    def __init__(self, *args: Any, actor: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["new_parent"]).queryset = (
            Organization.objects.visible_to(actor, Action.ORGS_CHANGE)
            .active()
            .exclude(path__startswith=org.path)
        )


class CloseForm(StyledForm):
    on = forms.DateField(label=_("撤销日期"), widget=DATE)
    reason = forms.CharField(label=_("撤销原因"), max_length=200)


class ConvertForm(StyledForm):
    reason = forms.CharField(label=_("转为建制型的依据"), max_length=200)
