"""Reading a spreadsheet upload (.xlsx, .xls, .csv) into rows of strings.

`read_table` is the one entry point. It knows nothing about ledger kinds: it finds the sheet
and the header row, turns every cell into a string, keeps the row numbers the user sees in
Excel (the first row of the sheet is row 1) and enforces the size limits before and while
reading. The format comes from the file's content (a renamed file still reads); the name only
has to end in one of the accepted extensions.

CSV files may be UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text") or
GB18030 (what Excel on Chinese Windows writes); comma, tab and semicolon separators are
recognised.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

EXTENSIONS = (".xlsx", ".xls", ".csv")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The header row is looked for among this many non-empty rows at the top of a sheet.
HEADER_SEARCH_ROWS = 10

HeaderTest = Callable[[list[str]], bool]


@dataclass(frozen=True)
class Limits:
    """Upper bounds for one upload. Defaults come from settings (LEDGER_IMPORT_MAX_*)."""

    max_bytes: int = 10 * 1024 * 1024
    max_rows: int = 20_000
    #: Sum of the uncompressed sizes of an .xlsx file's zip members (zip-bomb guard).
    max_unpacked_bytes: int = 100 * 1024 * 1024
    max_zip_members: int = 2_000
    max_columns: int = 200

    @classmethod
    def from_settings(cls) -> Limits:
        default = cls()
        return cls(
            max_bytes=getattr(settings, "LEDGER_IMPORT_MAX_BYTES", default.max_bytes),
            max_rows=getattr(settings, "LEDGER_IMPORT_MAX_ROWS", default.max_rows),
            max_unpacked_bytes=getattr(
                settings, "LEDGER_IMPORT_MAX_UNPACKED_BYTES", default.max_unpacked_bytes
            ),
        )


class ReadError(Exception):
    """The file as a whole cannot be read. `str()` gives the message in the current language."""

    MESSAGES = {
        "extension": _("只能上传 .xlsx、.xls 或 .csv 文件。"),
        "empty_file": _("文件是空的。"),
        "too_big": _("文件超过 %(limit)s，请拆分成几个文件分别导入。"),
        "too_many_rows": _(
            "数据超过 %(limit)s 行（第 %(line)s 行已超出），请拆分成几个文件分别导入。"
        ),
        "unpacked_too_big": _(
            "这个 .xlsx 文件解压后超过 %(limit)s，不像是正常的台账，请检查文件或另存后再上传。"
        ),
        "bad_xlsx": _(
            "无法读取这个 .xlsx 文件（文件已损坏或不是 Excel 文件），请用 Excel 另存后再上传。"
        ),
        "bad_xls": _(
            "无法读取这个 .xls 文件（文件已损坏或已加密），请用 Excel 另存为 .xlsx 后再上传。"
        ),
        "bad_csv": _("无法读取这个 CSV 文件：%(detail)s"),
        "encoding": _(
            "无法识别 CSV 文件的编码，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后再上传。"
        ),
        "no_sheet": _("文件中没有工作表。"),
        "no_header": _(
            "在前 %(rows)s 行中没有找到列名行（表头）。请使用下载的模板，保留第一行的列名。"
        ),
        "no_rows": _("文件中只有表头，没有数据行。"),
    }

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)

    def __str__(self) -> str:
        text = str(self.MESSAGES[self.code])
        return text % self.params if self.params else text


@dataclass
class TableRow:
    """One data row: its row number in the sheet, its cells as strings (as many as there are
    headers) and the positions of cells that held numbers (not text) in the workbook."""

    line: int
    values: list[str]
    numeric: frozenset[int] = field(default_factory=frozenset)


@dataclass
class Table:
    headers: list[str]
    header_line: int
    rows: list[TableRow]
    format: str  # "xlsx", "xls" or "csv"
    sheet: str = ""
    encoding: str = ""


def read_table(
    data: bytes,
    filename: str,
    *,
    is_header: HeaderTest | None = None,
    limits: Limits | None = None,
) -> Table:
    """Read an uploaded ledger. `is_header(cells)` says whether a row is the header row (by
    default the first non-empty row is); in a workbook the first sheet with such a row is
    read. Raises ReadError for a file that cannot be read or breaks a limit."""
    limits = limits or Limits.from_settings()
    if not filename.lower().endswith(EXTENSIONS):
        raise ReadError("extension")
    if not data:
        raise ReadError("empty_file")
    if len(data) > limits.max_bytes:
        raise ReadError("too_big", limit=size_text(limits.max_bytes))
    if data.startswith(ZIP_MAGIC):
        return _read_xlsx(data, is_header, limits)
    if data.startswith(OLE_MAGIC):
        return _read_xls(data, is_header, limits)
    return _read_csv(data, is_header, limits)


def size_text(size: int) -> str:
    """A byte count for people: "10 MB", "512 KB", "100 B"."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.3g} MB"
    if size >= 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size} B"


# --------------------------------------------------------------------------------------------
# From raw rows (lists of (text, is_number)) to a Table
# --------------------------------------------------------------------------------------------

RawRow = list[tuple[str, bool]]


def _find_header(
    rows: Iterator[tuple[int, RawRow]], is_header: HeaderTest | None
) -> tuple[int, list[str]] | None:
    seen = 0
    for line, cells in rows:
        texts = [text for text, _ in cells]
        if not any(texts):
            continue
        seen += 1
        if is_header is None or is_header(texts):
            while texts and not texts[-1]:
                texts.pop()
            return line, texts
        if seen >= HEADER_SEARCH_ROWS:
            return None
    return None


def _build(
    rows: Iterable[tuple[int, RawRow]],
    is_header: HeaderTest | None,
    limits: Limits,
    *,
    format: str,
    sheet: str = "",
    encoding: str = "",
) -> Table | None:
    iterator = iter(rows)
    found = _find_header(iterator, is_header)
    if found is None:
        return None
    header_line, headers = found
    width = min(len(headers), limits.max_columns)
    headers = headers[:width]
    table_rows: list[TableRow] = []
    for line, cells in iterator:
        cells = cells[:width]
        if not any(text for text, _ in cells):
            continue
        if len(table_rows) >= limits.max_rows:
            raise ReadError("too_many_rows", limit=limits.max_rows, line=line)
        values = [text for text, _ in cells] + [""] * (width - len(cells))
        numeric = frozenset(i for i, (_, number) in enumerate(cells) if number)
        table_rows.append(TableRow(line=line, values=values, numeric=numeric))
    return Table(
        headers=headers,
        header_line=header_line,
        rows=table_rows,
        format=format,
        sheet=sheet,
        encoding=encoding,
    )


def _finish(table: Table | None) -> Table:
    if table is None:
        raise ReadError("no_header", rows=HEADER_SEARCH_ROWS)
    if not table.rows:
        raise ReadError("no_rows")
    return table


def _clean_text(text: str) -> str:
    # Non-breaking and full-width spaces come with text pasted from web pages and Word.
    return text.replace("\u00a0", " ").replace("\u3000", " ").strip()


def cell_text(value: Any) -> tuple[str, bool]:
    """A workbook cell's value as text, and whether it was a number."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value)), True
        return repr(value), True
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat(), False
        return value.isoformat(sep=" ", timespec="seconds"), False
    if isinstance(value, dt.date | dt.time):
        return value.isoformat(), False
    return _clean_text(str(value)), False


# --------------------------------------------------------------------------------------------
# .xlsx
# --------------------------------------------------------------------------------------------


def check_zip(data: bytes, limits: Limits) -> None:
    """Refuse an archive whose members would unpack past the limit, before anything opens it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ReadError("bad_xlsx") from exc
    if len(members) > limits.max_zip_members:
        raise ReadError("unpacked_too_big", limit=size_text(limits.max_unpacked_bytes))
    if sum(member.file_size for member in members) > limits.max_unpacked_bytes:
        raise ReadError("unpacked_too_big", limit=size_text(limits.max_unpacked_bytes))


def _read_xlsx(data: bytes, is_header: HeaderTest | None, limits: Limits) -> Table:
    import openpyxl

    check_zip(data, limits)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, InvalidFileException…)
        raise ReadError("bad_xlsx") from exc
    try:
        if not workbook.worksheets:
            raise ReadError("no_sheet")
        for sheet in workbook.worksheets:
            if getattr(sheet, "sheet_state", "visible") != "visible" and is_header is not None:
                continue
            reset = getattr(sheet, "reset_dimensions", None)
            if reset is not None:
                reset()  # some writers store a wrong size; read what is there
            rows = (
                (line, [cell_text(value) for value in values[: limits.max_columns]])
                for line, values in enumerate(sheet.iter_rows(values_only=True), 1)
            )
            table = _build(rows, is_header, limits, format="xlsx", sheet=sheet.title)
            if table is not None or is_header is None:
                return _finish(table)
        return _finish(None)
    finally:
        workbook.close()


# --------------------------------------------------------------------------------------------
# .xls (BIFF, Excel 97–2003)
# --------------------------------------------------------------------------------------------


def _read_xls(data: bytes, is_header: HeaderTest | None, limits: Limits) -> Table:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:  # xlrd.XLRDError, CompoundDocError, struct.error…
        raise ReadError("bad_xls") from exc
    try:
        if book.nsheets == 0:
            raise ReadError("no_sheet")
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            if sheet.visibility != 0 and is_header is not None:
                continue

            def rows(sheet: Any = sheet) -> Iterator[tuple[int, RawRow]]:
                for r in range(sheet.nrows):
                    cells = [
                        _xls_cell(sheet.cell(r, c), book.datemode)
                        for c in range(min(sheet.ncols, limits.max_columns))
                    ]
                    yield r + 1, cells

            table = _build(rows(), is_header, limits, format="xls", sheet=sheet.name)
            if table is not None or is_header is None:
                return _finish(table)
        return _finish(None)
    finally:
        book.release_resources()


def _xls_cell(cell: Any, datemode: int) -> tuple[str, bool]:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return cell_text(xlrd.xldate.xldate_as_datetime(cell.value, datemode))
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell_text(cell.value)
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        return cell_text(float(cell.value))
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return cell_text(bool(cell.value))
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return "", False
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERR"), False
    return cell_text(str(cell.value))


# --------------------------------------------------------------------------------------------
# .csv
# --------------------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read with."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "UTF-8 (BOM)"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            raise ReadError("encoding") from exc
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GB18030"
    except UnicodeDecodeError as exc:
        raise ReadError("encoding") from exc


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: first.count(sep) for sep in (",", "\t", ";")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _read_csv(data: bytes, is_header: HeaderTest | None, limits: Limits) -> Table:
    try:
        text, encoding = decode_text(data)
    except UnicodeDecodeError as exc:
        raise ReadError("encoding") from exc
    if "\x00" in text:
        raise ReadError("encoding")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))

    def rows() -> Iterator[tuple[int, RawRow]]:
        try:
            for line, record in enumerate(reader, 1):
                yield line, [(_clean_text(value), False) for value in record[: limits.max_columns]]
        except csv.Error as exc:
            raise ReadError("bad_csv", detail=str(exc)) from exc

    return _finish(_build(rows(), is_header, limits, format="csv", encoding=encoding))


# --------------------------------------------------------------------------------------------

HEADER_NOISE = re.compile(r"[\s*＊:：]+")


def normalize_header(text: str) -> str:
    """A header as written ("身份证号 *", "手机号：") reduced to the words that name the column."""
    return HEADER_NOISE.sub("", text).replace("（", "(").replace("）", ")")
