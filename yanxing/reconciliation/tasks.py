"""Background work: making a run (thin: load by id, call the service; idempotent)."""

from django_tasks import task

from .services.runs import execute_run


@task()
def execute_run_task(run_id: int) -> None:
    execute_run(run_id=run_id)
