from typing import Any

from django.http import HttpRequest

from .policy import can
from .roles import Action


def access(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "perms_yx": {
            "orgs_change": can(user, Action.ORGS_CHANGE),
            "members_change": can(user, Action.MEMBERS_CHANGE),
            "members_export": can(user, Action.MEMBERS_EXPORT),
            "audit_view": can(user, Action.AUDIT_VIEW),
            "access_grant": can(user, Action.ACCESS_GRANT),
        }
    }
