from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "yanxing.accounts"
    label = "accounts"
    verbose_name = "账户"
