from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "yanxing.members"
    label = "members"
    verbose_name = "党员"
