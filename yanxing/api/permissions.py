from typing import Any

from rest_framework.permissions import BasePermission


class IsStaffUser(BasePermission):
    """Authenticated staff accounts only; record-level scope comes from the viewset queryset."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_active
            and getattr(user, "kind", "") == "staff"
        )
