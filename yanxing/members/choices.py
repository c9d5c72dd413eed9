from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    FULL = "full", _("正式党员")
    PROBATIONARY = "probationary", _("预备党员")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class MobilityStatus(models.TextChoices):
    LOCAL = "local", _("在本地")
    AWAY = "away", _("外出流动")


class ContactState(models.TextChoices):
    IN_CONTACT = "in_contact", _("联系正常")
    LOST = "lost", _("失联")


class Wish(models.TextChoices):
    UNKNOWN = "unknown", _("未了解")
    YES = "yes", _("有意愿")
    NO = "no", _("无意愿")
    UNDECIDED = "undecided", _("未确定")


class Industry(models.TextChoices):
    """Sections of GB/T 4754 that migrant members most often work in."""

    AGRICULTURE = "A", _("农、林、牧、渔业")
    MANUFACTURING = "C", _("制造业")
    CONSTRUCTION = "E", _("建筑业")
    TRADE = "F", _("批发和零售业")
    TRANSPORT = "G", _("交通运输、仓储和邮政业")
    CATERING = "H", _("住宿和餐饮业")
    IT = "I", _("信息传输、软件和信息技术服务业")
    REAL_ESTATE = "K", _("房地产业")
    BUSINESS_SERVICES = "L", _("租赁和商务服务业")
    RESIDENT_SERVICES = "O", _("居民服务、修理和其他服务业")
    EDUCATION = "P", _("教育")
    HEALTH = "Q", _("卫生和社会工作")
    OTHER = "Z", _("其他")
