from typing import Any

from django.core.management.base import BaseCommand

from yanxing.audit.services import record_event
from yanxing.core.crypto import keyring
from yanxing.members.keys import rotate_member_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt personal data under the first key in YANXING_FIELD_KEYS and recompute blind "
        "indexes with YANXING_INDEX_KEY. Keep the old key listed until this has finished."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = rotate_member_keys()
        record_event(
            actor=None,
            verb="keys.rotated",
            summary=f"primary key {keyring().primary}",
            data={"rows": result.rows, "changed": result.reencrypted},
        )
        self.stdout.write(f"checked {result.rows} members, re-encrypted {result.reencrypted}")
