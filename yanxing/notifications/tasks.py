"""Background work for notifications (thin: call the backend).

Task arguments are stored by the queue (in the database with the default backend), so the
phone number and the message travel encrypted and are opened only inside the task.
"""

from django_tasks import task

from yanxing.core.crypto import keyring

from .sms import get_backend

SMS_PHONE_PURPOSE = "notifications.sms.phone"
SMS_MESSAGE_PURPOSE = "notifications.sms.message"


@task()
def send_sms(sealed_phone: str, sealed_message: str) -> None:
    ring = keyring()
    get_backend().send(
        ring.decrypt(sealed_phone, SMS_PHONE_PURPOSE),
        ring.decrypt(sealed_message, SMS_MESSAGE_PURPOSE),
    )


def enqueue_sms(phone: str, message: str) -> None:
    """Queue an SMS without putting the number or the text in plain form into the queue."""
    ring = keyring()
    send_sms.enqueue(
        ring.encrypt(phone, SMS_PHONE_PURPOSE), ring.encrypt(message, SMS_MESSAGE_PURPOSE)
    )
