"""Filters of a run's lists, shared by the result page and the export.

One form; each list uses the fields that make sense for it (LIST_FILTERS). The host choice
holds only the hosts the actor sees in the run.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yanxing.core.forms import StyledForm, style_fields

from . import schedule
from .models import FIELD_NAMES, Run, RunConflict, RunPair, Side

LIST_FILTERS: dict[str, list[str]] = {
    "matched": ["q", "host", "decision", "status"],
    "review": ["q", "host"],
    "unmanaged": ["q"],
    "unknown": ["q", "host"],
    "duplicates": ["q", "side"],
    "conflicts": ["q", "host", "field", "resolution"],
    "merges": ["q"],
}


class ListFilterForm(StyledForm):
    q = forms.CharField(label=_("姓名"), required=False, max_length=60)
    host = forms.TypedChoiceField(label=_("流入地党组织"), required=False, coerce=int)
    decision = forms.ChoiceField(
        label=_("判定"),
        required=False,
        choices=[("", _("全部")), *RunPair.Decision.choices],
    )
    status = forms.ChoiceField(
        label=_("确认状态"),
        required=False,
        choices=[("", _("全部")), *RunPair.Status.choices],
    )
    field = forms.ChoiceField(
        label=_("字段"),
        required=False,
        choices=[("", _("全部")), *FIELD_NAMES.items()],
    )
    resolution = forms.ChoiceField(
        label=_("处理结果"),
        required=False,
        choices=[
            ("", _("全部")),
            ("pending", _("未处理")),
            (RunConflict.Resolution.HOME, _("以流出地为准")),
            (RunConflict.Resolution.HOST, _("采用流入地信息")),
        ],
    )
    side = forms.ChoiceField(
        label=_("所在台账"), required=False, choices=[("", _("全部")), *Side.choices]
    )

    def __init__(self, *args: Any, hosts: list[Any], list_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        host_field: Any = self.fields["host"]
        host_field.choices = [("", _("全部")), *((h.pk, h.name) for h in hosts)]
        for name in list(self.fields):
            if name not in LIST_FILTERS[list_name]:
                del self.fields[name]

    def value(self, name: str) -> Any:
        if not self.is_bound or not self.is_valid():
            return None
        return self.cleaned_data.get(name) or None


def apply(
    list_name: str,
    queryset: QuerySet[Any],
    form: ListFilterForm,
    records: QuerySet[Any] | None = None,
) -> QuerySet[Any]:
    """`records`: the rows the actor sees, for searching duplicate groups by name."""
    q, host = form.value("q"), form.value("host")
    if list_name in ("matched", "review"):
        if q:
            queryset = queryset.filter(Q(left__name__contains=q) | Q(right__name__contains=q))
        if host:
            queryset = queryset.filter(right__organization_id=host)
        if form.value("decision"):
            queryset = queryset.filter(decision=form.value("decision"))
        if form.value("status"):
            queryset = queryset.filter(status=form.value("status"))
    elif list_name in ("unmanaged", "unknown"):
        if q:
            queryset = queryset.filter(name__contains=q)
        if host:
            queryset = queryset.filter(organization_id=host)
    elif list_name == "duplicates":
        if q and records is not None:
            queryset = queryset.filter(
                pk__in=records.filter(name__contains=q).values("duplicate_group_id")
            )
        if form.value("side"):
            queryset = queryset.filter(side=form.value("side"))
    elif list_name == "conflicts":
        if q:
            queryset = queryset.filter(
                Q(pair__left__name__contains=q) | Q(pair__right__name__contains=q)
            )
        if host:
            queryset = queryset.filter(pair__right__organization_id=host)
        if form.value("field"):
            queryset = queryset.filter(field=form.value("field"))
        resolution = form.value("resolution")
        if resolution:
            queryset = queryset.filter(resolution="" if resolution == "pending" else resolution)
    elif list_name == "merges" and q:
        queryset = queryset.filter(survivor__name__contains=q)
    return queryset


class RunFilter(django_filters.FilterSet):
    """The run list: by quarter and status."""

    quarter = django_filters.ChoiceFilter(label=_("季度"), choices=[], empty_label=_("全部季度"))
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=Run.Status.choices, empty_label=_("全部状态")
    )

    class Meta:
        model = Run
        fields = ["quarter", "status"]

    def __init__(self, *args: Any, request: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, request=request, **kwargs)
        quarters = set(schedule.recent_quarters(8))
        if self.queryset is not None:
            quarters |= set(self.queryset.order_by().values_list("quarter", flat=True).distinct())
        self.filters["quarter"].extra["choices"] = [(q, q) for q in sorted(quarters, reverse=True)]
        style_fields(self.form)
