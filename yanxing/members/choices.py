from django.db import models


class Category(models.TextChoices):
    FULL = "full", "正式党员"
    PROBATIONARY = "probationary", "预备党员"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class MobilityStatus(models.TextChoices):
    LOCAL = "local", "在本地"
    AWAY = "away", "外出流动"


class ContactState(models.TextChoices):
    IN_CONTACT = "in_contact", "联系正常"
    LOST = "lost", "失联"


class Wish(models.TextChoices):
    UNKNOWN = "unknown", "未了解"
    YES = "yes", "有意愿"
    NO = "no", "无意愿"
    UNDECIDED = "undecided", "未确定"


class Industry(models.TextChoices):
    """Sections of GB/T 4754 that migrant members most often work in."""

    AGRICULTURE = "A", "农、林、牧、渔业"
    MANUFACTURING = "C", "制造业"
    CONSTRUCTION = "E", "建筑业"
    TRADE = "F", "批发和零售业"
    TRANSPORT = "G", "交通运输、仓储和邮政业"
    CATERING = "H", "住宿和餐饮业"
    IT = "I", "信息传输、软件和信息技术服务业"
    REAL_ESTATE = "K", "房地产业"
    BUSINESS_SERVICES = "L", "租赁和商务服务业"
    RESIDENT_SERVICES = "O", "居民服务、修理和其他服务业"
    EDUCATION = "P", "教育"
    HEALTH = "Q", "卫生和社会工作"
    OTHER = "Z", "其他"
