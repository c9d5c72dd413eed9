"""Session rules: idle timeout (staff 30 minutes by default) and the TOTP second factor."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

LAST_SEEN = "yx_last_seen"
OPEN_PREFIXES = ("/static/", "/i18n/", "/login", "/logout", "/m/login", "/api/", "/account/totp")


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/api/"):
            minutes = (
                settings.STAFF_IDLE_TIMEOUT_MINUTES
                if user.kind == "staff"
                else settings.MEMBER_IDLE_TIMEOUT_MINUTES
            )
            now = time.time()
            last = request.session.get(LAST_SEEN)
            if last is not None and now - float(last) > minutes * 60:
                is_member = user.kind == "member"
                logout(request)
                target = "accounts:member_login" if is_member else "accounts:login"
                return redirect(f"{reverse(target)}?expired=1")
            request.session[LAST_SEEN] = now
        return self.get_response(request)


class SecondFactorMiddleware:
    """Staff whose organizations require TOTP must pass it before any other page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from .services import confirmed_device, totp_required

        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(OPEN_PREFIXES)
            and not user.is_verified()
            and totp_required(user)
        ):
            if confirmed_device(user) is None:
                return redirect("accounts:totp_setup")
            return redirect(f"{reverse('accounts:totp_verify')}?next={request.get_full_path()}")
        return self.get_response(request)
