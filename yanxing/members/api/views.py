from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from yanxing.access.roles import Action
from yanxing.accounts.views import client_ip
from yanxing.api.viewsets import ScopedModelViewSet, as_drf_error
from yanxing.members import selectors, services
from yanxing.members.filters import MemberFilter
from yanxing.members.models import SENSITIVE_FIELDS, Member
from yanxing.orgs.models import Organization


class MemberSerializer(serializers.ModelSerializer):
    """Identifiers are write-only; reads show the masked forms. Use /reveal/ for plain text."""

    id_number = serializers.CharField(write_only=True, required=False, allow_blank=True)
    phone = serializers.CharField(write_only=True, required=False, allow_blank=True)
    home_org = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.none())
    home_org_name = serializers.CharField(source="home_org.name", read_only=True)
    four_clears = serializers.DictField(child=serializers.BooleanField(), read_only=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "name",
            "name_pinyin",
            "id_number",
            "id_masked",
            "phone",
            "phone_masked",
            "sex",
            "birth_date",
            "category",
            "joined_on",
            "home_org",
            "home_org_name",
            "home_division",
            "mobility_status",
            "destination",
            "destination_detail",
            "left_on",
            "employer",
            "industry",
            "wish_return_business",
            "wish_village_cadre",
            "contact_state",
            "lost_since",
            "four_clears",
            "updated_at",
        ]
        read_only_fields = [
            "name_pinyin",
            "id_masked",
            "phone_masked",
            "sex",
            "birth_date",
            "contact_state",
            "lost_since",
            "updated_at",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        home_org_field: Any = self.fields["home_org"]
        home_org_field.queryset = Organization.objects.visible_to(user, Action.MEMBERS_CHANGE)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["home_org"].read_only = True


class RevealSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField()


class MemberViewSet(ScopedModelViewSet):
    """党员名册：与页面相同的范围与脱敏规则。"""

    model = Member
    action_name = Action.MEMBERS_VIEW
    serializer_class = MemberSerializer
    filterset_class = MemberFilter
    ordering_fields = ["name_pinyin", "updated_at"]

    def get_queryset(self):
        action_name = (
            Action.MEMBERS_CHANGE
            if self.action in {"partial_update", "update"}
            else self.action_name
        )
        return selectors.members_for(self.request.user, action_name).order_by("name_pinyin", "pk")

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        home_org = data.pop("home_org")
        try:
            member, _ = services.create_member(actor=self.request.user, home_org=home_org, **data)
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        serializer.instance = member

    def perform_update(self, serializer: Any) -> None:
        data = {k: v for k, v in serializer.validated_data.items() if k != "home_org"}
        try:
            member, _ = services.update_member(
                actor=self.request.user, member=serializer.instance, **data
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        serializer.instance = member

    @extend_schema(
        request=None,
        responses=RevealSerializer,
        parameters=[OpenApiParameter("field", str, enum=SENSITIVE_FIELDS)],
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        """查看明文（写入敏感数据访问记录）。"""
        member = self.get_object()
        field = request.query_params.get("field", "id_number")
        try:
            value = services.reveal_sensitive(
                actor=request.user, member=member, field=field, ip=client_ip(request)
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from exc
        return Response({"field": field, "value": value}, status=status.HTTP_200_OK)
