from typing import Any

from django import template

from ..messages import bilingual as bilingual_text
from ..selectors import may_import

register = template.Library()


@register.filter
def may_import_ledgers(user: Any) -> bool:
    """For the sidebar: may this user import a ledger anywhere?"""
    return bool(getattr(user, "is_authenticated", False)) and may_import(user)


@register.filter
def bilingual(text: str) -> str:
    """The half of a stored "中文 / English" message in the current language."""
    return bilingual_text(text or "")
