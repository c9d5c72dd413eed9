"""Keep uploaded ledger rows only as long as they are needed (run daily, e.g. from cron).

Fails batches whose background job stopped, cancels batches nobody confirmed within 7 days
and deletes the failed rows kept for error workbooks after 30 days. The same is done, as a
side effect, whenever someone uploads a ledger.
"""

from typing import Any

from django.core.management.base import BaseCommand

from yanxing.ledgers.services import expire_batches


class Command(BaseCommand):
    help = "Fail stalled ledger imports and delete uploaded rows that are no longer needed."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = expire_batches()
        self.stdout.write(
            f"stalled {counts['stalled']}, expired {counts['expired']}, pruned {counts['pruned']}"
        )
