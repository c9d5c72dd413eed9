from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "yanxing.notifications"
    label = "notifications"
    verbose_name = "通知"
