from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from yanxing.access.policy import can
from yanxing.access.roles import Action
from yanxing.core.forms import style_fields
from yanxing.core.views import (
    PostActionView,
    ScopedDetailView,
    ScopedListView,
    StaffRequiredMixin,
    form_errors_from,
)

from . import selectors, services
from .forms import CloseForm, ConvertForm, MoveForm, OrganizationForm
from .models import Organization, OrgKind


class OrgFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=gettext_lazy("名称"), field_name="name", lookup_expr="contains"
    )
    kind = django_filters.ChoiceFilter(label=gettext_lazy("类型"), choices=OrgKind.choices)
    is_external = django_filters.BooleanFilter(label=gettext_lazy("在外党组织"))
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("状态"), choices=Organization.Status.choices
    )

    class Meta:
        model = Organization
        fields = ["q", "kind", "is_external", "status"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_fields(self.form)


class OrgTreeView(ScopedListView):
    model = Organization
    action = Action.ORGS_VIEW
    filterset_class = OrgFilter
    template_name = "orgs/tree.html"
    paginate_by = 100
    sort_fields = {"path": "path", "name": "name", "kind": "kind"}
    default_sort = "path"

    def scoped_queryset(self) -> Any:
        return selectors.orgs_for(self.request.user)


class OrgDetailView(ScopedDetailView):
    model = Organization
    action = Action.ORGS_VIEW
    template_name = "orgs/detail.html"
    context_object_name = "org"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        org: Organization = self.object
        user = self.request.user
        context["stats"] = selectors.org_stats(user, org)
        context["children"] = selectors.orgs_for(user).filter(parent=org)
        context["can_change"] = can(user, Action.ORGS_CHANGE, org.path)
        context["can_security"] = can(user, Action.ORGS_SECURITY, org.path)
        context["history"] = org.history.select_related("history_user").order_by("-history_date")[
            :50
        ]
        context["move_form"] = MoveForm(actor=user, org=org)
        context["close_form"] = CloseForm(initial={"on": dt.date.today()})
        context["convert_form"] = ConvertForm()
        return context


def _changeable(request: HttpRequest, pk: int) -> Organization:
    return get_object_or_404(
        Organization.objects.visible_to(request.user, Action.ORGS_CHANGE), pk=pk
    )


class OrgCreateView(StaffRequiredMixin, View):
    def get(self, request: HttpRequest, parent_pk: int) -> HttpResponse:
        parent = _changeable(request, parent_pk)
        return render(request, "orgs/form.html", {"form": OrganizationForm(), "parent": parent})

    def post(self, request: HttpRequest, parent_pk: int) -> HttpResponse:
        parent = _changeable(request, parent_pk)
        form = OrganizationForm(request.POST)
        if form.is_valid():
            try:
                org = services.create_organization(
                    actor=request.user, parent=parent, **form.cleaned_data
                )
            except ValidationError as exc:
                form_errors_from(exc, form)
            else:
                messages.success(request, _("已设立 %(name)s。") % {"name": org.name})
                return redirect("orgs:detail", pk=org.pk)
        return render(request, "orgs/form.html", {"form": form, "parent": parent}, status=400)


class OrgEditView(StaffRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        org = _changeable(request, pk)
        return render(
            request, "orgs/form.html", {"form": OrganizationForm(instance=org), "org": org}
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        org = _changeable(request, pk)
        form = OrganizationForm(request.POST, instance=Organization.objects.get(pk=org.pk))
        if form.is_valid():
            try:
                services.update_organization(actor=request.user, org=org, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(exc, form)
            else:
                messages.success(request, _("已保存。"))
                return redirect("orgs:detail", pk=org.pk)
        return render(request, "orgs/form.html", {"form": form, "org": org}, status=400)


class OrgActionView(PostActionView):
    """Move, close, convert and the TOTP policy (each service re-checks the change rights)."""

    def get_target(self, request: HttpRequest, pk: int) -> Organization:
        return get_object_or_404(
            Organization.objects.visible_to(request.user, Action.ORGS_VIEW), pk=pk
        )

    def actions(self, request: HttpRequest, target: Organization) -> dict[str, Any]:
        user, data = request.user, request.POST
        return {
            "move": (
                lambda: MoveForm(data, actor=user, org=target),
                lambda d: services.move_organization(
                    actor=user, org=target, new_parent=d["new_parent"]
                ),
            ),
            "close": (
                lambda: CloseForm(data),
                lambda d: services.close_organization(actor=user, org=target, **d),
            ),
            "convert": (
                lambda: ConvertForm(data),
                lambda d: services.convert_to_formal(actor=user, org=target, reason=d["reason"]),
            ),
            "totp": (
                lambda: None,
                lambda d: services.set_staff_totp_policy(
                    actor=user, org=target, required=data.get("required") == "1"
                ),
            ),
        }

    def redirect_to(self, target: Organization) -> HttpResponse:
        return redirect("orgs:detail", pk=target.pk)
