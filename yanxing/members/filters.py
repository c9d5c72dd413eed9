"""One filter definition for the member list page, the API and exports."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from yanxing.access.roles import Action
from yanxing.core.forms import style_fields
from yanxing.core.paths import subtree_q
from yanxing.orgs.models import Organization
from yanxing.regions.models import Division

from .choices import Category, ContactState, Industry, MobilityStatus
from .models import Member
from .selectors import search_q

LEVEL_WIDTH = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}


class MemberFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="filter_q")
    org = django_filters.ModelChoiceFilter(
        label=_("党组织（含下级）"), queryset=Organization.objects.none(), method="filter_org"
    )
    category = django_filters.ChoiceFilter(label=_("党员类别"), choices=Category.choices)
    mobility_status = django_filters.ChoiceFilter(
        label=_("流动状态"), choices=MobilityStatus.choices
    )
    contact_state = django_filters.ChoiceFilter(label=_("联系状态"), choices=ContactState.choices)
    industry = django_filters.ChoiceFilter(label=_("行业"), choices=Industry.choices)
    destination = django_filters.CharFilter(
        label=_("流向地（区划代码或名称）"), method="filter_destination"
    )

    class Meta:
        model = Member
        fields = [
            "q",
            "org",
            "category",
            "mobility_status",
            "contact_state",
            "industry",
            "destination",
        ]

    def __init__(self, *args: Any, request: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        self.filters["org"].queryset = Organization.objects.visible_to(user, Action.MEMBERS_VIEW)
        style_fields(self.form)
        self.form.fields["destination"].widget.attrs["placeholder"] = _("地名或区划代码")

    def filter_q(self, queryset: QuerySet[Member], name: str, value: str) -> QuerySet[Member]:
        return queryset.filter(search_q(value))

    def filter_org(
        self, queryset: QuerySet[Member], name: str, value: Organization
    ) -> QuerySet[Member]:
        from yanxing.members.models import Participation

        orgs = Organization.objects.filter(subtree_q("path", value.path)).values("id")
        hosted = Participation.objects.filter(organization__in=orgs, ended_on__isnull=True).values(
            "member_id"
        )
        return queryset.filter(home_org__in=orgs) | queryset.filter(pk__in=hosted)

    def filter_destination(
        self, queryset: QuerySet[Member], name: str, value: str
    ) -> QuerySet[Member]:
        value = value.strip()
        if value.isdigit():
            division = Division.objects.filter(code=value.ljust(12, "0")[:12]).first()
            if division is None:
                return queryset.none()
            width = LEVEL_WIDTH[division.level]
            return queryset.filter(destination__code__startswith=division.code[:width])
        codes = Division.objects.filter(full_name__contains=value).values("code")
        return queryset.filter(destination__in=codes)
