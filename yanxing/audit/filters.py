from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from yanxing.access.roles import Action
from yanxing.core.forms import style_fields
from yanxing.core.paths import subtree_q
from yanxing.orgs.models import Organization


class AuditFilter(django_filters.FilterSet):
    """Shared by the event list and the access log: organization (subtree), actor, date range."""

    org = django_filters.ModelChoiceFilter(
        label=_("党组织（含下级）"), queryset=Organization.objects.none(), method="filter_org"
    )
    actor = django_filters.CharFilter(
        label=_("操作人"), field_name="actor_label", lookup_expr="contains"
    )
    date_from = django_filters.DateFilter(
        label=_("起始日期"),
        field_name="created_at",
        lookup_expr="date__gte",
        widget=django_filters.widgets.forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        label=_("截止日期"),
        field_name="created_at",
        lookup_expr="date__lte",
        widget=django_filters.widgets.forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, request: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, request=request, **kwargs)
        self.filters["org"].queryset = Organization.objects.visible_to(
            getattr(request, "user", None), Action.AUDIT_VIEW
        )
        style_fields(self.form)

    def filter_org(self, queryset: QuerySet[Any], name: str, value: Organization) -> QuerySet[Any]:
        return queryset.filter(subtree_q("organization__path", value.path))
