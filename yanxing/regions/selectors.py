"""Reads of division data (public reference data: not org-scoped)."""

from __future__ import annotations

from .models import Division


def region_status(code6: str) -> str:
    """For ID validation: "current", "province" (province known, code retired or unloaded) or "unknown"."""
    if Division.objects.filter(gb_code=code6, level__lte=Division.Level.COUNTY).exists():
        return "current"
    if Division.objects.filter(code=code6[:2].ljust(12, "0")).exists():
        return "province"
    return "unknown"


def search(term: str, max_level: int = 5, limit: int = 20) -> list[Division]:
    qs = Division.objects.filter(level__lte=max_level)
    qs = qs.filter(code__startswith=term) if term.isdigit() else qs.filter(full_name__contains=term)
    return list(qs.order_by("level", "code")[:limit])
