"""The English interface: a complete catalog, English pages, and no untranslated template text.

The msgids are the Chinese strings; `make messages` compiles the catalog before the tests run.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.conftest import World

LOCALE_DIR = Path(settings.BASE_DIR) / "yanxing" / "locale" / "en" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"
#: The project catalog and the apps' own catalogs (yanxing/<app>/locale/en/LC_MESSAGES).
PO_FILES = [
    PO_FILE,
    *sorted((Path(settings.BASE_DIR) / "yanxing").glob("*/locale/en/LC_MESSAGES/django.po")),
]
TEMPLATE_DIR = Path(settings.BASE_DIR) / "yanxing" / "templates"

# CJK ideographs, CJK punctuation (。、「」（…) and full-width forms (：，（）).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

# Template text that is translated or deliberately Chinese, removed before the scan:
TRANSLATED = re.compile(
    r"{%\s*blocktrans(?:late)?\b.*?%}.*?{%\s*endblocktrans(?:late)?\s*%}"  # block translations
    r"|{%\s*trans(?:late)?\s.*?%}"  # {% translate "…" %}
    r"|\b_\(\s*(?:\"[^\"]*\"|'[^']*')\s*\)"  # _("…") as a tag or filter argument
    r"|{#.*?#}"  # comments
    r"|{%\s*comment\b.*?%}.*?{%\s*endcomment\s*%}"
    # an element marked as Chinese, such as the language switch's "中文"
    r"|<(?P<tag>[a-z][a-z0-9]*)\b[^>]*\blang=\"zh[^\"]*\"[^>]*>.*?</(?P=tag)>",
    re.S,
)


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def read_po(path: Path) -> list[Entry]:
    """Entries of a .po file (obsolete `#~` entries are skipped)."""
    entries: list[Entry] = []
    current: Entry | None = None
    parts: dict[str, list[str]] = {}
    key = ""

    def finish() -> None:
        if current is not None and "msgid" in parts:
            current.msgctxt = "".join(parts["msgctxt"]) if "msgctxt" in parts else None
            current.msgid = "".join(parts["msgid"])
            current.msgstrs = ["".join(v) for k, v in parts.items() if k.startswith("msgstr")]
            entries.append(current)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        starts_entry = line.startswith("#") or (
            line.startswith("msgctxt") or line.startswith("msgid ")
        )
        if starts_entry and current is not None and any(k.startswith("msgstr") for k in parts):
            finish()
            current, parts = None, {}
        if current is None:
            current = Entry(line=number)
        if line.startswith("#,"):
            current.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            parts[key].append(ast.literal_eval(line))
        else:
            key, _, value = line.partition(" ")
            parts[key] = [ast.literal_eval(value)]
    finish()
    return entries


def english_client() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(
        r"<(?P<tag>[a-z][a-z0-9]*)\b[^>]*\blang=\"zh[^\"]*\"[^>]*>.*?</(?P=tag)>",
        " ",
        html,
        flags=re.S,
    )
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def world_data(world: World) -> list[str]:
    """Names of people, organizations, places and employers: data, shown as entered."""
    values: list[str] = []
    for member in (world.m_away, world.m_local, world.m_other):
        values += [
            member.name,
            member.name[:1],
            member.employer,
        ]  # the avatar shows the first character
        values += [d.full_name for d in (member.destination, member.home_division) if d]
    for org in (
        world.county,
        world.township,
        world.village,
        world.host,
        world.other_county,
        world.other_branch,
    ):
        values += [org.name]
        values += [d.full_name for d in (org.division, org.host_division) if d]
    return sorted({v for v in values if v}, key=len, reverse=True)


def untranslated(text: str, data: list[str]) -> list[str]:
    for value in data:
        text = text.replace(value, " ")
    return sorted({m.group(0) for m in re.finditer(r"\S*" + CJK.pattern + r"\S*", text)})


@pytest.mark.parametrize("po_file", PO_FILES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_catalog_is_complete(po_file: Path) -> None:
    entries = read_po(po_file)
    if po_file == PO_FILE:
        assert len(entries) > 100, "the English catalog looks truncated"
    header, messages = entries[0], entries[1:]
    assert header.msgid == ""
    problems = []
    for entry in [header, *messages]:
        if "fuzzy" in entry.flags:
            problems.append(f"line {entry.line}: fuzzy {entry.msgid!r}")
        if not entry.msgstrs or not all(s.strip() for s in entry.msgstrs):
            problems.append(f"line {entry.line}: empty msgstr for {entry.msgid!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("po_file", PO_FILES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_translations_keep_placeholders(po_file: Path) -> None:
    placeholder = re.compile(r"%\(\w+\)s")
    for entry in read_po(po_file)[1:]:
        for msgstr in entry.msgstrs:
            assert sorted(placeholder.findall(msgstr)) == sorted(
                placeholder.findall(entry.msgid)
            ), entry.msgid


@pytest.mark.parametrize("po_file", PO_FILES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_compiled_catalog_is_current(po_file: Path) -> None:
    mo_file = po_file.with_suffix(".mo")
    assert mo_file.exists(), "run `make messages` to compile the catalog"
    assert mo_file.stat().st_mtime >= po_file.stat().st_mtime, (
        "django.po changed: run `make messages`"
    )


def test_templates_have_no_untranslated_chinese() -> None:
    found = []
    for path in sorted(TEMPLATE_DIR.rglob("*.html")):
        text = TRANSLATED.sub(
            lambda m: "\n" * m.group(0).count("\n"), path.read_text(encoding="utf-8")
        )
        for number, line in enumerate(text.splitlines(), 1):
            if CJK.search(line):
                found.append(f"{path.relative_to(TEMPLATE_DIR)}:{number}: {line.strip()[:120]}")
    assert not found, "wrap these in {% translate %} / {% blocktranslate %}:\n" + "\n".join(found)


def test_template_scan_catches_literal_chinese() -> None:
    def leftover(source: str) -> bool:
        return bool(CJK.search(TRANSLATED.sub("", source)))

    assert leftover("<th>姓名</th>")
    assert leftover('<input placeholder="手机号">')
    assert leftover("{{ field }}：")
    assert not leftover('<th>{% translate "姓名" %}</th>')
    assert not leftover("{% blocktranslate with n=n %}共 {{ n }} 人{% endblocktranslate %}")
    assert not leftover('{{ user|default:_("系统") }}')
    assert not leftover('<button name="language" value="zh-hans" lang="zh-hans">中文</button>')


@pytest.mark.django_db
def test_login_page_in_english() -> None:
    client = Client()
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("accounts:login")}
    )
    assert response.status_code == 302
    page = client.get(reverse("accounts:login"))
    html = page.content.decode()
    assert '<html lang="en">' in html
    assert "Staff sign-in" in html
    assert "Sign in" in html
    assert not untranslated(visible_text(html), [])


@pytest.mark.django_db
def test_login_page_in_chinese_by_default() -> None:
    html = Client().get(reverse("accounts:login")).content.decode()
    assert "工作人员登录" in html
    assert "Staff sign-in" not in html


@pytest.mark.django_db
def test_member_list_in_english(world: World) -> None:
    client = english_client()
    client.force_login(world.county_admin, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(reverse("members:list")).content.decode()
    assert "Member registry" in html
    assert "Dashboard" in html
    assert "Organizations" in html
    assert "Audit" in html
    assert "Mobility status" in html
    assert not untranslated(visible_text(html), world_data(world))


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["member", "org", "dashboard", "orgs", "member_form"])
def test_staff_pages_in_english(world: World, page: str) -> None:
    urls = {
        "member": reverse("members:detail", args=[world.m_away.pk]),
        "org": reverse("orgs:detail", args=[world.host.pk]),
        "dashboard": reverse("dashboards:home"),
        "orgs": reverse("orgs:tree"),
        "member_form": reverse("members:edit", args=[world.m_away.pk]),
    }
    client = english_client()
    client.force_login(world.county_admin, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(urls[page])
    assert response.status_code == 200
    assert not untranslated(visible_text(response.content.decode()), world_data(world))


@pytest.mark.django_db
def test_member_portal_in_english(world: World) -> None:
    client = english_client()
    client.force_login(world.member_user, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(reverse("accounts:member_home")).content.decode()
    assert "Membership relation held at" in html
    assert not untranslated(visible_text(html), world_data(world))
