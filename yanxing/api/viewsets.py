"""Base viewsets: the queryset is always `visible_to(request.user, action)`; out of scope is 404."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError


class ScopedViewSetMixin:
    model: Any
    action_name: str  # "members.view" … (DRF uses `self.action` for its own purpose)
    request: Any

    def get_queryset(self) -> Any:
        return self.model.objects.visible_to(self.request.user, self.action_name)


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    http_method_names = ["get", "post", "patch", "head", "options"]


def as_drf_error(exc: DjangoValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError(
            {k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        )
    return ValidationError({"detail": exc.messages})
