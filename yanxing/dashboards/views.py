from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from yanxing.reconciliation.selectors import overdue_for

from .selectors import overview


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if request.user.kind != "staff":
        return redirect("accounts:member_home")
    return render(
        request,
        "dashboards/home.html",
        {"o": overview(request.user), "overdue": overdue_for(request.user)},
    )
