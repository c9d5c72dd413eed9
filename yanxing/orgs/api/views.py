from __future__ import annotations

from typing import Any

import django_filters
from rest_framework import serializers

from yanxing.access.roles import Action
from yanxing.api.viewsets import ScopedReadOnlyViewSet
from yanxing.orgs.models import Organization


class OrganizationSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    host_division_name = serializers.CharField(
        source="host_division.full_name", default="", read_only=True
    )

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "short_name",
            "kind",
            "kind_label",
            "parent",
            "depth",
            "is_external",
            "host_division",
            "host_division_name",
            "division",
            "host_basis",
            "status",
            "founded_on",
        ]


def _parent_choices(request: Any) -> Any:
    # Only organizations the actor may see: an out-of-scope parent is rejected exactly like a
    # missing one, and the browsable API's filter form lists nothing beyond the actor's scope.
    return Organization.objects.visible_to(getattr(request, "user", None), Action.ORGS_VIEW)


class OrganizationFilter(django_filters.FilterSet):
    parent = django_filters.ModelChoiceFilter(queryset=_parent_choices)

    class Meta:
        model = Organization
        fields = ["kind", "is_external", "status", "parent"]


class OrganizationViewSet(ScopedReadOnlyViewSet):
    """党组织（只读）：本人授权范围内的组织树。"""

    model = Organization
    action_name = Action.ORGS_VIEW
    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    ordering_fields = ["name", "path"]

    def get_queryset(self):
        return super().get_queryset().select_related("host_division").order_by("path")
