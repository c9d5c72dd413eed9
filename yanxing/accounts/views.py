"""Sign-in pages for staff (password, then TOTP) and members (phone, then SMS code)."""

from __future__ import annotations

import base64
import io
from typing import Any, cast

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from yanxing.core.exceptions import BusinessRuleError

from . import services
from .forms import PhoneCodeForm, PhoneForm, StaffLoginForm, TokenForm
from .models import User


def signed_in(request: HttpRequest) -> User:
    """The signed-in account (views using this are behind login_required)."""
    return cast(User, request.user)


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    form = StaffLoginForm(request.POST or None)
    form.errors.clear()
    form.add_error(
        None,
        _(
            "登录失败次数过多，账户已锁定15分钟，请稍后再试。 / Too many failed sign-ins: the account is locked for 15 minutes."
        ),
    )
    return render(request, "accounts/login.html", {"form": form, "locked": True}, status=403)


def staff_login(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.kind == "staff":
        return redirect("dashboards:home")
    form = StaffLoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if user is None or user.kind != "staff":
            if getattr(request, "axes_locked_out", False):
                return lockout_response(request)
            form.add_error(None, _("用户名或密码错误。 / Wrong username or password."))
        else:
            login(request, user)
            services.record_staff_login(actor=user, ip=client_ip(request))
            return redirect(_next(request, reverse("dashboards:home")))
    return render(
        request, "accounts/login.html", {"form": form, "expired": request.GET.get("expired")}
    )


@require_POST
def staff_logout(request: HttpRequest) -> HttpResponse:
    is_member = request.user.is_authenticated and request.user.kind == "member"
    logout(request)
    return redirect("accounts:member_login" if is_member else "accounts:login")


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@login_required
def totp_setup(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None or (request.method == "GET" and request.GET.get("renew")):
        device = services.start_totp_enrolment(actor=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = services.confirm_totp_enrolment(
                actor=user, token=form.cleaned_data["token"]
            )
        except BusinessRuleError as exc:
            form.add_error("token", exc.messages[0])
        else:
            otp_login(request, confirmed)
            messages.success(request, _("动态口令已启用。 / Two-factor sign-in is on."))
            return redirect("dashboards:home")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "accounts/totp_setup.html",
        {"form": form, "qr_svg": _qr_svg(device.config_url), "secret": secret},
    )


@login_required
def totp_verify(request: HttpRequest) -> HttpResponse:
    device = services.confirmed_device(signed_in(request))
    if device is None:
        return redirect("accounts:totp_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            return redirect(_next(request, reverse("dashboards:home")))
        form.add_error("token", _("动态口令不正确或已过期。 / Wrong or expired code."))
    return render(request, "accounts/totp_verify.html", {"form": form, "next": _next(request, "")})


@login_required
def security(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    if user.kind != "staff":
        return redirect("accounts:member_home")
    from rest_framework.authtoken.models import Token

    token = None
    if request.method == "POST" and request.POST.get("action") == "token":
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user).key
        messages.info(
            request,
            _("新的接口令牌只显示这一次，请妥善保存。 / The new API token is shown only once."),
        )
    return render(
        request,
        "accounts/security.html",
        {
            "has_device": services.confirmed_device(request.user) is not None,  # type: ignore[arg-type]
            "totp_required": services.totp_required(user),
            "token": token,
            "has_token": Token.objects.filter(user=user).exists(),
        },
    )


def member_login(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.kind == "member":
        return redirect("accounts:member_home")
    posted = request.method == "POST"
    step = request.POST.get("step", "phone")
    # Bind a form only to a submission, so the first visit shows no "required" errors.
    phone_form = PhoneForm(request.POST if posted and step == "phone" else None)
    code_form = PhoneCodeForm(request.POST if posted and step == "code" else None)
    sent = False
    if request.method == "POST" and step == "phone" and phone_form.is_valid():
        try:
            services.request_phone_code(
                phone=phone_form.cleaned_data["phone"], ip=client_ip(request)
            )
        except BusinessRuleError as exc:
            phone_form.add_error("phone", exc.messages[0])
        else:
            sent = True
            code_form = PhoneCodeForm(initial={"phone": phone_form.cleaned_data["phone"]})
    elif request.method == "POST" and step == "code":
        sent = True
        if code_form.is_valid():
            try:
                user = services.verify_phone_code(
                    phone=code_form.cleaned_data["phone"], code=code_form.cleaned_data["code"]
                )
            except BusinessRuleError as exc:
                code_form.add_error("code", exc.messages[0])
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect("accounts:member_home")
    return render(
        request,
        "member_portal/login.html",
        {
            "phone_form": phone_form,
            "code_form": code_form,
            "sent": sent,
            "expired": request.GET.get("expired"),
        },
    )


def member_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:member_login")
    if user.kind != "member" or user.member is None:
        return redirect("dashboards:home")
    member = user.member
    participations = member.participations.filter(ended_on__isnull=True).select_related(
        "organization"
    )
    return render(
        request, "member_portal/home.html", {"member": member, "participations": participations}
    )
