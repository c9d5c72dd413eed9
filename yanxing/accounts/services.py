"""Sign-in rules: phone one-time codes with limits, TOTP enrolment and policy."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from yanxing.audit.services import record_event
from yanxing.core.crypto import blind_index
from yanxing.core.exceptions import BusinessRuleError
from yanxing.members.models import Member
from yanxing.members.normalize import normalize_phone, phone_error
from yanxing.members.services import PHONE_PURPOSE

from .models import PhoneCode, User


class CodeRejected(BusinessRuleError):
    pass


def _code_hash(phone_hash: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{phone_hash}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def member_user_for_phone(phone: str) -> User | None:
    digest = blind_index(normalize_phone(phone), PHONE_PURPOSE)
    if not digest:
        return None
    member = Member.objects.filter(phone_hash=digest, is_active=True).first()
    if member is None:
        return None
    user, _ = User.objects.get_or_create(
        member=member,
        defaults={
            "username": f"m{member.pk}",
            "kind": User.Kind.MEMBER,
            "display_name": member.name,
        },
    )
    return user if user.is_active else None


@transaction.atomic
def request_phone_code(*, phone: str, ip: str | None, now: dt.datetime | None = None) -> None:
    """Send a 6-digit code valid for 5 minutes, within per-phone and per-IP limits.

    The answer is the same whether or not the phone belongs to a member, so the form cannot be
    used to find out who is registered; only registered members actually receive a code.
    """
    from yanxing.notifications.tasks import enqueue_sms

    now = now or timezone.now()
    phone = normalize_phone(phone)
    error = phone_error(phone) or ("" if phone else "请填写手机号。 / Enter your mobile number.")
    if error:
        raise BusinessRuleError(error)
    digest = blind_index(phone, PHONE_PURPOSE)
    recent = PhoneCode.objects.filter(phone_hash=digest)
    if (
        recent.filter(created_at__gte=now - dt.timedelta(hours=1)).count()
        >= settings.PHONE_CODE_MAX_PER_HOUR
    ):
        raise BusinessRuleError(
            "该手机号1小时内获取验证码次数已达上限，请稍后再试。 / Too many codes this hour."
        )
    if (
        recent.filter(created_at__gte=now - dt.timedelta(days=1)).count()
        >= settings.PHONE_CODE_MAX_PER_DAY
    ):
        raise BusinessRuleError(
            "该手机号今日获取验证码次数已达上限，请明天再试。 / Daily code limit reached."
        )
    if ip and PhoneCode.objects.filter(
        ip=ip, created_at__gte=now - dt.timedelta(hours=1)
    ).count() >= (settings.PHONE_CODE_MAX_PER_IP_HOUR):
        raise BusinessRuleError("请求过于频繁，请稍后再试。 / Too many requests from this network.")
    code = f"{secrets.randbelow(10**6):06d}"
    PhoneCode.objects.filter(phone_hash=digest, used_at__isnull=True).update(used_at=now)
    PhoneCode.objects.create(
        phone_hash=digest,
        code_hash=_code_hash(digest, code),
        ip=ip,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.PHONE_CODE_TTL_SECONDS),
    )
    if member_user_for_phone(phone) is not None:
        message = f"【雁行】您的登录验证码为 {code}，5分钟内有效。如非本人操作请忽略。"
        transaction.on_commit(lambda: enqueue_sms(phone, message))


def verify_phone_code(*, phone: str, code: str, now: dt.datetime | None = None) -> User:
    user = _check_phone_code(phone=phone, code=code, now=now or timezone.now())
    if user is None:
        raise CodeRejected(
            "验证码错误或已过期，请重新获取。 / The code is wrong or has expired; request a new one."
        )
    return user


@transaction.atomic
def _check_phone_code(*, phone: str, code: str, now: dt.datetime) -> User | None:
    """The member's user for a right code, else None. Returns rather than raises, so that the
    count of wrong attempts is committed and the attempt limit holds."""
    digest = blind_index(normalize_phone(phone), PHONE_PURPOSE)
    entry = (
        PhoneCode.objects.select_for_update()
        .filter(phone_hash=digest, used_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if entry is None or entry.expires_at <= now:
        return None
    if entry.attempts >= settings.PHONE_CODE_MAX_ATTEMPTS:
        return None
    if not hmac.compare_digest(entry.code_hash, _code_hash(digest, (code or "").strip())):
        entry.attempts += 1
        if entry.attempts >= settings.PHONE_CODE_MAX_ATTEMPTS:
            entry.used_at = now
        entry.save(update_fields=["attempts", "used_at"])
        return None
    user = member_user_for_phone(phone)
    if user is None:
        return None
    entry.used_at = now
    entry.save(update_fields=["used_at"])
    record_event(
        actor=user,
        verb="account.member_login",
        target=user.member,
        organization=user.member.home_org if user.member else None,
    )
    return user


def totp_required(user: Any) -> bool:
    """Staff must use TOTP when any organization on a path to one of their grants requires it."""
    if not getattr(user, "is_authenticated", False) or user.kind != User.Kind.STAFF:
        return False
    from yanxing.orgs.models import Organization

    paths = list(user.grants.values_list("organization__path", flat=True))
    if not paths:
        return False
    prefixes = {p[: i + 1] for p in paths for i, ch in enumerate(p) if ch == "."}
    return Organization.objects.filter(path__in=prefixes, require_staff_totp=True).exists()


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@transaction.atomic
def start_totp_enrolment(*, actor: User) -> TOTPDevice:
    TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
    return TOTPDevice.objects.create(user=actor, name="雁行动态口令", confirmed=False)


@transaction.atomic
def confirm_totp_enrolment(*, actor: User, token: str) -> TOTPDevice:
    device = TOTPDevice.objects.select_for_update().filter(user=actor, confirmed=False).first()
    if device is None or not device.verify_token((token or "").strip()):
        raise BusinessRuleError(
            "动态口令不正确，请核对手机上的6位数字。 / Wrong code; check the 6 digits in your app."
        )
    TOTPDevice.objects.filter(user=actor, confirmed=True).delete()
    device.confirmed = True
    device.save()
    record_event(actor=actor, verb="account.totp_enrolled", target=actor)
    return device


def record_staff_login(*, actor: User, ip: str | None) -> None:
    """A staff sign-in (password accepted) is an audit event at the user's first grant."""
    grant = actor.grants.select_related("organization").order_by("organization__path").first()
    record_event(
        actor=actor,
        verb="account.staff_login",
        target=actor,
        organization=grant.organization if grant else None,
        ip=ip,
    )
