from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from .models import Division


class DivisionInput(forms.TextInput):
    """A code input that tom-select turns into a searchable picker (works without JavaScript too)."""

    def __init__(self, max_level: int = 5, attrs: dict[str, Any] | None = None) -> None:
        attrs = {
            "data-division-picker": reverse_lazy("regions:search"),
            "data-max-level": str(max_level),
            "placeholder": _("输入地名或12位区划代码"),
            **(attrs or {}),
        }
        super().__init__(attrs)

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, Division):
            return value.code
        return super().format_value(value)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        code = value.code if isinstance(value, Division) else value
        division = Division.objects.filter(code=code).first() if code else None
        if division is not None:
            context["widget"]["attrs"]["data-label"] = division.full_name
        return context


class DivisionField(forms.ModelChoiceField):
    def __init__(self, *, max_level: int = 5, **kwargs: Any) -> None:
        kwargs.setdefault("widget", DivisionInput(max_level=max_level))
        super().__init__(queryset=Division.objects.filter(level__lte=max_level), **kwargs)
        self.error_messages["invalid_choice"] = (
            "区划代码不存在，请从列表中选择。 / Unknown division code."
        )
