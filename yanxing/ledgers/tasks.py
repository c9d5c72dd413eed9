"""Background work for ledger imports (thin: load by id, call the service; both idempotent).

Only the batch id travels through the queue; the rows stay encrypted in the database.
"""

from django_tasks import task


@task()
def check_batch(batch_id: int) -> None:
    from .services import check_batch as check

    check(batch_id=batch_id)


@task()
def import_batch(batch_id: int) -> None:
    from .services import run_import

    run_import(batch_id=batch_id)
