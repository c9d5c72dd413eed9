"""Settings shared by every test of the repository (tests/ and yanxing/*/tests/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Each test starts in the default language (Chinese): a page requested in English
    leaves its language active in the thread, which must not leak into the next test."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()
