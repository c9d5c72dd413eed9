"""Progress of a batch's import step, readable while its one transaction is still open.

The import writes every row inside one transaction, so a progress figure saved inside it
would stay invisible to the status page until the very end. It is published beside it:

- PostgreSQL: through a second connection in autocommit mode, which updates the batch's
  `progress` and `heartbeat_at`. The import's own transaction does not touch the batch row
  until its last statement, so the two never wait for each other.
- SQLite: in a small file under VAR_DIR/ledgers/. SQLite has one writer at a time (a second
  connection would wait for the import to end) and runs on one machine, where the worker
  and the web server share that directory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from .models import ImportBatch

#: Publish at most this often (seconds), and whenever the whole percent changes.
INTERVAL = 1.0


def _file(batch_id: int) -> Path:
    # Test runs and several databases on one machine share VAR_DIR: key by database as well.
    database = hashlib.sha256(str(connection.settings_dict.get("NAME")).encode()).hexdigest()[:12]
    return Path(settings.VAR_DIR) / "ledgers" / f"progress-{database}-{batch_id}.json"


class ProgressReporter:
    """`with ProgressReporter(batch_id, total) as report: report(done)`.

    With `beside_transaction=False` (work that runs in autocommit mode, such as checking the
    rows) the batch row is simply updated.
    """

    def __init__(self, batch_id: int, total: int, *, beside_transaction: bool = True) -> None:
        self.batch_id = batch_id
        self.total = max(total, 1)
        self.beside = beside_transaction
        self.percent = -1
        self.last = 0.0
        self.side: Any = None

    def __enter__(self) -> ProgressReporter:
        if self.beside and connection.vendor == "postgresql":
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        self(0)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.side is not None:
            self.side.close()
        if self.beside:
            _file(self.batch_id).unlink(missing_ok=True)

    def __call__(self, done: int) -> None:
        percent = min(100, done * 100 // self.total)
        now = time.monotonic()
        if percent == self.percent and now - self.last < INTERVAL:
            return
        self.percent, self.last = percent, now
        if not self.beside:
            ImportBatch.objects.filter(pk=self.batch_id).update(
                progress=percent, heartbeat_at=timezone.now()
            )
        elif self.side is not None:
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportBatch._meta.db_table} SET progress = %s, heartbeat_at = %s"  # noqa: S608
                    " WHERE id = %s",
                    [percent, timezone.now(), self.batch_id],
                )
        else:
            path = _file(self.batch_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"percent": percent}))


def live_progress(batch: ImportBatch) -> tuple[int, dt.datetime | None]:
    """The batch's progress (percent) and the last sign of life of the job working on it."""
    percent, heartbeat = batch.progress, batch.heartbeat_at
    if batch.status == ImportBatch.Status.RUNNING and connection.vendor != "postgresql":
        path = _file(batch.pk)
        try:
            percent = int(json.loads(path.read_text())["percent"])
            stamp = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
            heartbeat = max(heartbeat, stamp) if heartbeat else stamp
        except (OSError, ValueError, KeyError):
            pass
    return percent, heartbeat
