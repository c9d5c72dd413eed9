"""Checking one row of a ledger: every cell parsed, every problem said in words a user can act on.

`clean_row` turns a row of strings into typed values (dates, choice codes, divisions, the
normalised ID and phone number) and a list of problems. It reads reference data (divisions)
but never the registry: whether a person is new, changed or unchanged is for the importers.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from yanxing.core import idnumber
from yanxing.members.normalize import normalize_name, normalize_phone, phone_error
from yanxing.orgs.models import Organization
from yanxing.regions.models import Division
from yanxing.regions.selectors import region_status

from .kinds import HOST_ROSTER, Column, ColumnType, HeaderMap, LedgerKind, fold
from .messages import RowIssue
from .reading import TableRow

SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$")
FLOAT_TAIL = re.compile(r"^\d{15,18}\.0+$")
DATE_FULL = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
DATE_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
NUMERIC_MONTH = re.compile(r"^(\d{4})\.(\d{2})$")
EXCEL_EPOCH = dt.date(1899, 12, 30)
LAST_EXCEL_SERIAL = 2_958_465  # 9999-12-31


@dataclass
class CleanRow:
    line: int
    values: dict[str, Any] = field(default_factory=dict)
    issues: list[RowIssue] = field(default_factory=list)
    #: Position in the file of each column, for highlighting a cell the importers object to.
    positions: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(not issue.warning for issue in self.issues)

    def add(self, column: Column | None, code: str = "", text: str = "", **params: Any) -> None:
        self.issues.append(
            RowIssue(
                line=self.line,
                column=column.header if column else "",
                col=self.positions.get(column.key) if column else None,
                code=code,
                params=params,
                text=text,
            )
        )

    def warn(self, column: Column, code: str = "", text: str = "") -> None:
        self.add(column, code=code, text=text)
        self.issues[-1].warning = True


class DivisionResolver:
    """Division by 12-digit code, GB/T 2260 code, full name or name; among equal names the one
    nearest the organization's own division wins (longest common code prefix)."""

    def __init__(self, near_code: str = "") -> None:
        self.near = near_code
        self._cache: dict[tuple[str, int], tuple[Division | None, str]] = {}

    def resolve(self, text: str, max_level: int) -> tuple[Division | None, str]:
        key = (text, max_level)
        if key not in self._cache:
            self._cache[key] = self._resolve(text, max_level)
        return self._cache[key]

    def _resolve(self, text: str, max_level: int) -> tuple[Division | None, str]:
        value = "".join(text.split())
        if value.isdigit():
            query = Q(code=value.ljust(12, "0")) if len(value) in (9, 12) else Q(gb_code=value)
            found = Division.objects.filter(query).first() if len(value) in (6, 9, 12) else None
            return self._check_level(found, max_level, text)
        queries = [Q(full_name=value) | Q(name=value), Q(full_name__endswith=value)]
        if len(value) >= 2:
            queries.append(Q(name__startswith=value))
        for query in queries:
            candidates = list(Division.objects.filter(query).order_by("level", "code")[:50])
            if candidates:
                return self._pick(candidates, max_level, text)
        return None, "division_unknown"

    def _pick(
        self, candidates: list[Division], max_level: int, text: str
    ) -> tuple[Division | None, str]:
        if len(candidates) > 1:
            # The shallowest level first ("北京市" the province, not the district of that name),
            # then the nearest to the organization.
            top = min(c.level for c in candidates)
            candidates = [c for c in candidates if c.level == top]
        if len(candidates) > 1 and self.near:
            score = {c.code: _common_prefix(c.code, self.near) for c in candidates}
            best = max(score.values())
            candidates = [c for c in candidates if score[c.code] == best]
        if len(candidates) > 1:
            return None, "division_ambiguous"
        return self._check_level(candidates[0], max_level, text)

    @staticmethod
    def _check_level(
        found: Division | None, max_level: int, text: str
    ) -> tuple[Division | None, str]:
        if found is None:
            return None, "division_unknown"
        if found.level > max_level:
            return None, "division_level"
        return found, ""


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def division_near(org: Organization) -> str:
    """The division code of the organization or of its nearest ancestor that has one."""
    path = org.path
    prefixes = [path[: i + 5] for i in range(0, len(path), 5)]
    ancestor = (
        Organization.objects.filter(path__in=prefixes, division__isnull=False)
        .order_by("-depth")
        .values_list("division_id", flat=True)
        .first()
    )
    return ancestor or ""


class CleanContext:
    """Per-batch caches: region codes of ID numbers, divisions, choice spellings."""

    def __init__(self, kind: LedgerKind, organization: Organization) -> None:
        self.kind = kind
        self.today = timezone.localdate()
        self.divisions = DivisionResolver(division_near(organization))
        self.lookups = {c.key: c.choice_lookup() for c in kind.columns if c.choices is not None}
        self._regions: dict[str, str] = {}

    def region_status(self, code6: str) -> str:
        if code6 not in self._regions:
            self._regions[code6] = region_status(code6)
        return self._regions[code6]


# --------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------


def excel_mangled_id(text: str, numeric: bool) -> bool:
    """Excel keeps 15 significant digits: an 18-digit ID stored as a number has lost its last
    digits (1.10105E+17, 110105194912310000)."""
    digits = text.split(".")[0]
    if numeric and len(digits) >= 16:
        return True
    if SCIENTIFIC.match(text) or FLOAT_TAIL.match(text):
        return True
    return (
        len(text) == 18
        and text.isdigit()
        and text.endswith("000")
        and idnumber.check_char(text[:17]) != text[17]
    )


def parse_date(text: str, numeric: bool) -> dt.date | None:
    """A date as people write it in ledgers, or as Excel stores it; None if unreadable."""
    value = text.strip()
    try:
        if numeric and not DATE_COMPACT.match(value):
            month = NUMERIC_MONTH.match(value)
            if month:  # "2001.07" typed into a number cell
                return dt.date(int(month[1]), int(month[2]), 1)
            serial = float(value)
            if serial.is_integer() and 1 <= serial <= LAST_EXCEL_SERIAL:
                return EXCEL_EPOCH + dt.timedelta(days=int(serial))
            return None
        for pattern in (DATE_FULL, DATE_COMPACT):
            match = pattern.match(value)
            if match:
                return dt.date(int(match[1]), int(match[2]), int(match[3]))
        month = DATE_MONTH.match(value)
        if month:  # only the month is known (common for 入党日期): the first of that month
            return dt.date(int(month[1]), int(month[2]), 1)
    except (ValueError, OverflowError):
        return None
    return None


def _clean_cell(row: CleanRow, column: Column, text: str, numeric: bool, ctx: CleanContext) -> Any:
    """The typed value of one non-empty cell, or None after recording the problem."""
    if column.value_type == ColumnType.NAME:
        value = normalize_name(text)
    elif column.value_type == ColumnType.ID:
        compact = "".join(text.split())
        if excel_mangled_id(compact, numeric):
            row.add(column, "id_excel_number")
            return None
        check = idnumber.validate(compact, region_status=ctx.region_status, today=ctx.today)
        for error in check.errors:
            row.add(column, text=error)
        for warning in check.warnings:
            row.warn(column, text=warning)
        return check if check.ok else None
    elif column.value_type == ColumnType.PHONE:
        value = normalize_phone(text)
        error = phone_error(value)
        if error:
            row.add(column, text=error)
            return None
        return value
    elif column.value_type == ColumnType.DATE:
        date = parse_date(text, numeric)
        if date is None:
            row.add(column, "date_invalid", value=text[:40])
        elif date.year < 1900:
            row.add(column, "date_too_early")
        elif date > ctx.today:
            row.add(column, "date_future")
        else:
            return date
        return None
    elif column.value_type == ColumnType.CHOICE:
        code = ctx.lookups[column.key].get(fold(text))
        if code is None:
            row.add(
                column, "choice_invalid", value=text[:40], choices="、".join(column.choice_labels())
            )
        return code
    elif column.value_type == ColumnType.DIVISION:
        division, problem = ctx.divisions.resolve(text, column.max_level)
        if problem:
            row.add(column, problem, value=text[:60])
        return division
    else:
        value = text
    if column.max_length and len(value) > column.max_length:
        row.add(column, "too_long", max=column.max_length)
        return None
    return value


def clean_row(
    kind: LedgerKind, table_row: TableRow, headers: HeaderMap, ctx: CleanContext
) -> CleanRow:
    row = CleanRow(line=table_row.line, positions=dict(headers.index))
    for key, (text, numeric, _position) in kind.cells(table_row, headers).items():
        column = kind.column(key)
        if not text:
            if column.required:
                row.add(column, "required")
            continue
        value = _clean_cell(row, column, text, numeric, ctx)
        if value is not None:
            row.values[key] = value
    _check_identity(kind, row)
    if kind is HOST_ROSTER:
        _host_rules(row)
    return row


def _check_identity(kind: LedgerKind, row: CleanRow) -> None:
    """Sex and birth date, when filled in, must agree with the ID number."""
    check = row.values.get("id_number")
    if not isinstance(check, idnumber.IdCheck):
        return
    if "sex" in row.values and row.values["sex"] != check.sex:
        row.add(kind.column("sex"), "sex_mismatch")
        del row.values["sex"]
    if "birth_date" in row.values and row.values["birth_date"] != check.birth_date:
        row.add(kind.column("birth_date"), "birth_mismatch")
        del row.values["birth_date"]


def _host_rules(row: CleanRow) -> None:
    if "id_number" not in row.values and "phone" not in row.values:
        flagged = {issue.column for issue in row.issues}
        if not flagged & {"身份证号", "手机号"}:
            row.add(HOST_ROSTER.column("id_number"), "id_or_phone")
    check = row.values.get("id_number")
    if isinstance(check, idnumber.IdCheck):
        row.values.setdefault("sex", check.sex)
        row.values.setdefault("birth_date", check.birth_date)
