from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse

from . import selectors


@login_required
def search(request: HttpRequest) -> JsonResponse:
    """Autocomplete for division pickers (public reference data; sign-in required)."""
    term = request.GET.get("q", "").strip()
    max_level = int(request.GET.get("max_level", "5") or 5)
    rows = selectors.search(term, max_level=max_level) if term else []
    return JsonResponse(
        {"results": [{"value": d.code, "text": d.full_name, "level": d.level} for d in rows]}
    )
