"""Background work for notifications (thin: call the backend)."""

from django_tasks import task

from .sms import get_backend


@task()
def send_sms(phone: str, message: str) -> None:
    get_backend().send(phone, message)
