"""Row problems found while checking a ledger, stored as codes and shown in the reader's language.

A problem is kept as a message code and its parameters (never the plain ID or phone number),
so the preview shows it in Chinese or English, whichever the reader chose. Messages that come
from shared validators (ID numbers, phone numbers, the member services) are already written
"中文 / English"; the half in the reader's language is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "required": _("不能为空，请填写。"),
    "too_long": _("内容过长（最多 %(max)s 个字），请删减。"),
    "id_excel_number": _("被 Excel 转成了数字，末几位已丢失：请把该列设为文本后重新填写。"),
    "duplicate_in_file": _("与第 %(line)s 行是同一人，同一人只能出现一次，请删除重复的行。"),
    "date_invalid": _("无法识别的日期“%(value)s”，请写成 2024-03-01 这样的格式。"),
    "date_future": _("日期晚于今天，请核对。"),
    "date_too_early": _("日期早于 1900 年，请核对。"),
    "choice_invalid": _("“%(value)s”不是可选的值，请从下拉列表中选择：%(choices)s。"),
    "sex_mismatch": _("与身份证号中的性别不符，请核对。"),
    "birth_mismatch": _("与身份证号中的出生日期不符，请核对。"),
    "division_unknown": _(
        "找不到行政区划“%(value)s”，请填写完整名称（如“山西省运城市万荣县”）或12位区划代码。"
    ),
    "division_ambiguous": _("“%(value)s”对应多个行政区划，请填写完整名称或12位区划代码。"),
    "division_level": _("“%(value)s”过细，请填写到省、市或县一级。"),
    "local_ignores_away": _("流动状态为“在本地”，本列未导入。"),
    "id_or_phone": _("身份证号和手机号至少填写一项。"),
    "member_other_org": _(
        "该党员的组织关系在“%(org)s”，不在所选党组织。转接组织关系请在党员页面办理。"
    ),
    "member_out_of_reach": _("你已无权修改这位党员（可能刚转到其他党组织），本行未导入。"),
    "member_elsewhere": _(
        "该身份证号已由其他党组织登记，不能在这里导入。如需转入，请联系其组织关系所在党组织办理转接。"
    ),
}


@dataclass
class RowIssue:
    """One problem in one row (`line` is the row number in the sheet)."""

    line: int
    column: str = ""  # the column's Chinese header (a msgid); "" for the row as a whole
    col: int | None = None  # position of the column in the uploaded file's header
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    text: str = ""  # a "中文 / English" message from a shared validator
    warning: bool = False

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"line": self.line, "column": self.column, "col": self.col}
        if self.code:
            data["code"] = self.code
            if self.params:
                data["params"] = self.params
        else:
            data["text"] = self.text
        if self.warning:
            data["warning"] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RowIssue:
        return cls(
            line=int(data["line"]),
            column=data.get("column", ""),
            col=data.get("col"),
            code=data.get("code", ""),
            params=data.get("params", {}),
            text=data.get("text", ""),
            warning=bool(data.get("warning", False)),
        )

    @property
    def message(self) -> str:
        """The problem in the current language."""
        if self.code:
            text = str(MESSAGES[self.code])
            return text % self.params if self.params else text
        text = bilingual(self.text)
        # "身份证号校验位错误…" under the column 身份证号 reads "身份证号：校验位错误…"; but
        # "身份证号中的出生日期…" keeps its subject.
        if self.column and text.startswith(self.column):
            rest = text[len(self.column) :]
            if rest and not rest.startswith("中"):
                return rest
        return text

    @property
    def column_label(self) -> str:
        return gettext(self.column) if self.column else ""

    def __str__(self) -> str:
        """第 12 行 身份证号：… — the row number as the user sees it in Excel."""
        if self.column:
            return gettext("第 %(line)s 行 %(column)s：%(message)s") % {
                "line": self.line,
                "column": self.column_label,
                "message": self.message,
            }
        return gettext("第 %(line)s 行：%(message)s") % {"line": self.line, "message": self.message}

    def cell_note(self) -> str:
        """The problem as written into the error workbook's 错误原因 column."""
        if self.column:
            return gettext("%(column)s：%(message)s") % {
                "column": self.column_label,
                "message": self.message,
            }
        return self.message


def bilingual(text: str) -> str:
    """The half of a "中文 / English" message in the current language (all of it otherwise)."""
    chinese, separator, english = text.partition(" / ")
    if not separator:
        return text
    language = get_language() or "zh-hans"
    return english.strip() if language.startswith("en") else chinese.strip()
