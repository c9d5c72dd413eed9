"""The one access policy: which organization subtrees an actor may act on, per action.

Results are cached on the user object for the length of a request (grants rarely change
mid-request; services that change grants clear the cache).
"""

from __future__ import annotations

from typing import Any

from yanxing.core.paths import is_within, minimal_roots

from .roles import actions_of

_CACHE_ATTR = "_yanxing_grant_cache"


def _grants(user: Any) -> list[tuple[str, str]]:
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        from .models import Grant

        cached = list(
            Grant.objects.filter(user=user, organization__status="active").values_list(
                "role", "organization__path"
            )
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def clear_cache(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def is_staff_actor(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.kind == "staff")


def granted_roots(user: Any, action: str) -> list[str]:
    """Paths of the subtrees where `user` may perform `action` (minimal set, sorted)."""
    if not is_staff_actor(user):
        return []
    return minimal_roots(path for role, path in _grants(user) if action in actions_of(role))


def can(user: Any, action: str, path: str | None = None) -> bool:
    """May `user` perform `action` anywhere (path None) or within the org at `path`."""
    roots = granted_roots(user, action)
    if path is None:
        return bool(roots)
    return is_within(path, roots)


def any_action_roots(user: Any) -> list[str]:
    if not is_staff_actor(user):
        return []
    return minimal_roots(path for _, path in _grants(user))
