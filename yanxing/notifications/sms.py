"""Pluggable SMS backends. The default writes messages to the log and to an outbox file so the
demo works offline; a production backend implements `send` against the operator's gateway."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger("yanxing.sms")


class SmsBackend(Protocol):
    def send(self, phone: str, message: str) -> None: ...


class ConsoleFileBackend:
    def send(self, phone: str, message: str) -> None:
        line = f"{timezone.now().isoformat()}\t{phone}\t{message}\n"
        logger.info("SMS to %s: %s", phone, message)
        path = settings.SMS_OUTBOX_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as outbox:
            outbox.write(line)


class MemoryBackend:
    """Keeps messages in memory (tests)."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, message: str) -> None:
        self.outbox.append((phone, message))


def get_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend
