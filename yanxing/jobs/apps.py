from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "yanxing.jobs"
    label = "jobs"
    verbose_name = "任务"
