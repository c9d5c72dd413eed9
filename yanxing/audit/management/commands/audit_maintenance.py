from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from yanxing.audit.models import AccessLog, Event
from yanxing.audit.services import record_event, verify_chain


class Command(BaseCommand):
    help = "Verify the audit hash chains; with --purge, delete records older than the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--purge", action="store_true")
        parser.add_argument("--days", type=int, default=settings.AUDIT_RETENTION_DAYS)

    def handle(self, *args: Any, **options: Any) -> None:
        broken = {model.__name__: verify_chain(model) for model in (Event, AccessLog)}
        for name, ids in broken.items():
            if ids:
                self.stderr.write(f"{name}: chain broken at ids {ids[:20]}")
            else:
                self.stdout.write(f"{name}: chain intact")
        if any(broken.values()):
            raise CommandError("audit chain verification failed")
        if options["purge"]:
            days = options["days"]
            if days < settings.AUDIT_MIN_RETENTION_DAYS:
                raise CommandError(
                    f"retention must be at least {settings.AUDIT_MIN_RETENTION_DAYS} days"
                )
            cutoff = timezone.now() - timedelta(days=days)
            with transaction.atomic():
                counts = {
                    m.__name__: m.objects.filter(created_at__lt=cutoff).delete()[0]
                    for m in (Event, AccessLog)
                }
                record_event(
                    actor=None, verb="audit.purged", summary=f"older than {days} days", data=counts
                )
            self.stdout.write(f"purged {counts}")
