"""Ledger kinds: their columns, how a file's header maps onto them, and the check of one row.

A kind lists its columns once; the template workbook, the header matching, the row check and
docs/import-formats.md all follow that list. Headers in files are Chinese whatever the
interface language; a column is also found under a few common alternative names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import TextChoices
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from yanxing.members.choices import Category, Industry, MobilityStatus, Sex, Wish

from .reading import TableRow, normalize_header


class ColumnType:
    TEXT = "text"
    NAME = "name"
    ID = "id"
    PHONE = "phone"
    DATE = "date"
    CHOICE = "choice"
    DIVISION = "division"


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese column name, also its msgid
    value_type: str = ColumnType.TEXT
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: type[TextChoices] | None = None
    #: Other words accepted for a choice: (word, code).
    synonyms: tuple[tuple[str, str], ...] = ()
    max_length: int = 0
    max_level: int = 5  # divisions: 1 province … 5 village
    note: Any = ""  # how to fill it in (shown in the template's 说明 sheet)
    width: int = 14

    def choice_labels(self) -> list[str]:
        """The Chinese labels of a choice column, in order (what its dropdown offers)."""
        if self.choices is None:
            return []
        with translation.override("zh-hans"):
            return [str(label) for label in self.choices.labels]

    def choice_lookup(self) -> dict[str, str]:
        """Accepted spellings (Chinese and English labels, codes, synonyms) → code."""
        lookup: dict[str, str] = {}
        if self.choices is None:
            return lookup
        for language in ("en", "zh-hans"):
            with translation.override(language):
                for code, label in self.choices.choices:
                    lookup[fold(str(label))] = code
                    lookup[fold(code)] = code
        for word, code in self.synonyms:
            lookup[fold(word)] = code
        return lookup


def fold(text: str) -> str:
    return "".join(text.split()).lower().replace("（", "(").replace("）", ")")


@dataclass(frozen=True)
class HeaderMap:
    """Where each column of a kind sits in an uploaded file."""

    index: dict[str, int]
    missing: list[Column]
    ignored: list[str]
    duplicated: list[str]


@dataclass(frozen=True)
class LedgerKind:
    code: str
    label: Any
    sheet_title: str
    columns: tuple[Column, ...]
    description: Any = ""
    _by_key: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key.update({column.key: column for column in self.columns})

    def column(self, key: str) -> Column:
        return self._by_key[key]

    def _names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for column in self.columns:
            for name in (column.header, *column.aliases):
                names[normalize_header(name)] = column.key
        return names

    def is_header(self, cells: list[str]) -> bool:
        """A row is the header when it names at least two of the kind's columns."""
        names = self._names()
        return len({names[n] for n in map(normalize_header, cells) if n in names}) >= 2

    def match_headers(self, headers: list[str]) -> HeaderMap:
        names = self._names()
        index: dict[str, int] = {}
        ignored: list[str] = []
        duplicated: list[str] = []
        for position, header in enumerate(headers):
            key = names.get(normalize_header(header))
            if key is None:
                if header:
                    ignored.append(header)
            elif key in index:
                duplicated.append(header)
            else:
                index[key] = position
        missing = [c for c in self.columns if c.required and c.key not in index]
        return HeaderMap(index=index, missing=missing, ignored=ignored, duplicated=duplicated)

    def cells(self, row: TableRow, headers: HeaderMap) -> dict[str, tuple[str, bool, int]]:
        """column key → (text, was a number, position in the file) for the columns present."""
        return {
            key: (row.values[position], position in row.numeric, position)
            for key, position in headers.index.items()
        }


DATE_NOTE = _("日期，如 2024-03-01；也可写 2024/3/1、2024.3.1、2024年3月1日。")
ID_NOTE = _(
    "18位居民身份证号，最后一位可以是X。本列已设为文本格式：请勿改成数字格式，否则末几位会丢失。"
)
PHONE_NOTE = _("11位手机号。")
#: The phone column is the same in every kind of ledger.
PHONE_COLUMN = Column(
    "phone",
    gettext_noop("手机号"),
    ColumnType.PHONE,
    aliases=("手机号码", "联系电话", "手机", "联系方式"),
    note=PHONE_NOTE,
    width=14,
)

MEMBERS = LedgerKind(
    code="members",
    label=_("党员信息台账"),
    sheet_title="党员信息台账",
    description=_(
        "组织关系在所选党组织的党员名单。按身份证号新增或更新党员；空白单元格表示不修改原有内容。"
    ),
    columns=(
        Column(
            "name",
            gettext_noop("姓名"),
            ColumnType.NAME,
            required=True,
            aliases=("党员姓名",),
            max_length=60,
            note=_("党员姓名。"),
            width=10,
        ),
        Column(
            "id_number",
            gettext_noop("身份证号"),
            ColumnType.ID,
            required=True,
            aliases=("身份证号码", "公民身份号码", "身份证"),
            note=ID_NOTE,
            width=22,
        ),
        PHONE_COLUMN,
        Column(
            "sex",
            gettext_noop("性别"),
            ColumnType.CHOICE,
            choices=Sex,
            synonyms=(("男性", "M"), ("女性", "F")),
            note=_("可不填：由身份证号得出；填写时须与身份证号一致。"),
            width=8,
        ),
        Column(
            "birth_date",
            gettext_noop("出生日期"),
            ColumnType.DATE,
            note=_("可不填：由身份证号得出；填写时须与身份证号一致。"),
            width=12,
        ),
        Column(
            "category",
            gettext_noop("党员类别"),
            ColumnType.CHOICE,
            choices=Category,
            synonyms=(("正式", "full"), ("预备", "probationary")),
            note=_("正式党员或预备党员；新增时不填按正式党员。"),
            width=12,
        ),
        Column(
            "joined_on",
            gettext_noop("入党日期"),
            ColumnType.DATE,
            aliases=("入党时间",),
            note=DATE_NOTE,
            width=12,
        ),
        Column(
            "home_division",
            gettext_noop("户籍所在村"),
            ColumnType.DIVISION,
            aliases=("户籍所在村（社区）", "户籍所在地", "户籍地"),
            note=_("行政区划名称（如“解店镇城西村委会”）或12位区划代码。"),
            width=24,
        ),
        Column(
            "mobility_status",
            gettext_noop("流动状态"),
            ColumnType.CHOICE,
            choices=MobilityStatus,
            synonyms=(("本地", "local"), ("在家", "local"), ("外出", "away"), ("流出", "away")),
            note=_("在本地或外出流动；在本地时不导入流向地和外出日期。"),
            width=12,
        ),
        Column(
            "destination",
            gettext_noop("流向地"),
            ColumnType.DIVISION,
            aliases=("流入地", "外出地点", "外出地"),
            max_level=3,
            note=_("外出流动的去向，填到省、市或县一级，如“北京市”“广东省东莞市”。"),
            width=20,
        ),
        Column(
            "left_on",
            gettext_noop("外出日期"),
            ColumnType.DATE,
            aliases=("外出时间",),
            note=DATE_NOTE,
            width=12,
        ),
        Column(
            "employer",
            gettext_noop("工作单位"),
            aliases=("工作单位及职务", "单位"),
            max_length=120,
            note=_("外出期间的工作单位。"),
            width=24,
        ),
        Column(
            "industry",
            gettext_noop("从事行业"),
            ColumnType.CHOICE,
            aliases=("行业",),
            choices=Industry,
            note=_("从下拉列表中选择（国民经济行业门类）。"),
            width=22,
        ),
        Column(
            "wish_return_business",
            gettext_noop("返乡创业意愿"),
            ColumnType.CHOICE,
            choices=Wish,
            synonyms=(("有", "yes"), ("是", "yes"), ("无", "no"), ("否", "no"), ("没有", "no")),
            note=_("未了解、有意愿、无意愿或未确定。"),
            width=14,
        ),
        Column(
            "wish_village_cadre",
            gettext_noop("担任村干部意愿"),
            ColumnType.CHOICE,
            aliases=("村干部意愿",),
            choices=Wish,
            synonyms=(("有", "yes"), ("是", "yes"), ("无", "no"), ("否", "no"), ("没有", "no")),
            note=_("未了解、有意愿、无意愿或未确定。"),
            width=14,
        ),
    ),
)

HOST_ROSTER = LedgerKind(
    code="host_roster",
    label=_("流入党员名单"),
    sheet_title="流入党员名单",
    description=_(
        "流入地党组织报到党员的完整名单（常由其他系统导出）。每次导入替换该党组织的名单："
        "名单中的人新增或更新，不在名单中的记录标记为“不在名单中”。"
    ),
    columns=(
        Column(
            "name",
            gettext_noop("姓名"),
            ColumnType.NAME,
            required=True,
            max_length=60,
            note=_("姓名。"),
            width=10,
        ),
        Column(
            "id_number",
            gettext_noop("身份证号"),
            ColumnType.ID,
            aliases=("身份证号码", "公民身份号码", "身份证"),
            note=_("18位居民身份证号。身份证号和手机号至少填写一项。本列已设为文本格式。"),
            width=22,
        ),
        PHONE_COLUMN,
        Column(
            "sex",
            gettext_noop("性别"),
            ColumnType.CHOICE,
            choices=Sex,
            synonyms=(("男性", "M"), ("女性", "F")),
            note=_("男或女；有身份证号时可不填。"),
            width=8,
        ),
        Column(
            "birth_date",
            gettext_noop("出生日期"),
            ColumnType.DATE,
            note=_("有身份证号时可不填。"),
            width=12,
        ),
        Column(
            "home_village",
            gettext_noop("户籍地"),
            aliases=("户籍所在地", "户籍所在村", "籍贯"),
            max_length=120,
            note=_("户籍所在地，照原样记录。"),
            width=24,
        ),
        Column(
            "city",
            gettext_noop("所在城市"),
            aliases=("现居住城市", "所在地"),
            max_length=60,
            note=_("现在工作生活的城市。"),
            width=12,
        ),
        Column(
            "employer",
            gettext_noop("工作单位"),
            aliases=("工作单位及职务", "单位"),
            max_length=120,
            note=_("工作单位。"),
            width=24,
        ),
        Column(
            "reported_on",
            gettext_noop("报到日期"),
            ColumnType.DATE,
            aliases=("报到时间",),
            note=DATE_NOTE,
            width=12,
        ),
    ),
)

KINDS: dict[str, LedgerKind] = {kind.code: kind for kind in (MEMBERS, HOST_ROSTER)}
KIND_CHOICES = [(kind.code, kind.label) for kind in KINDS.values()]


def get_kind(code: str) -> LedgerKind:
    return KINDS[code]
