from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from yanxing.access.policy import can
from yanxing.access.roles import Action
from yanxing.core.forms import style_fields
from yanxing.core.views import (
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


class OrgActionView(StaffRequiredMixin, View):
    """Move, close, convert and the TOTP policy: POST only."""

    def post(self, request: HttpRequest, pk: int, verb: str) -> HttpResponse:
        org = get_object_or_404(
            Organization.objects.visible_to(request.user, Action.ORGS_VIEW), pk=pk
        )
        user = request.user
        form: Any = None
        try:
            if verb == "move":
                form = MoveForm(request.POST, actor=user, org=org)
                if form.is_valid():
                    services.move_organization(
                        actor=user, org=org, new_parent=form.cleaned_data["new_parent"]
                    )
            elif verb == "close":
                form = CloseForm(request.POST)
                if form.is_valid():
                    services.close_organization(actor=user, org=org, **form.cleaned_data)
            elif verb == "convert":
                form = ConvertForm(request.POST)
                if form.is_valid():
                    services.convert_to_formal(
                        actor=user, org=org, reason=form.cleaned_data["reason"]
                    )
            elif verb == "totp":
                services.set_staff_totp_policy(
                    actor=user, org=org, required=request.POST.get("required") == "1"
                )
            else:
                raise Http404
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if form is not None and form.errors:
                for errors in form.errors.values():
                    messages.error(request, " ".join(errors))
            else:
                messages.success(request, _("已保存。"))
        return redirect("orgs:detail", pk=org.pk)
