"""Member registry pages. Thin: scope comes from the base views, writes go through services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from yanxing.access.policy import can
from yanxing.access.roles import Action
from yanxing.accounts.views import client_ip
from yanxing.core.views import (
    PostActionView,
    ScopedDetailView,
    ScopedListView,
    StaffRequiredMixin,
    form_errors_from,
)

from . import exports, selectors, services
from .filters import MemberFilter
from .forms import LostContactForm, MemberForm, ParticipationForm, RestoreContactForm
from .models import Member, Participation


class MemberListView(ScopedListView):
    model = Member
    action = Action.MEMBERS_VIEW
    filterset_class = MemberFilter
    template_name = "members/list.html"
    partial_template = "members/_table.html"
    sort_fields = {
        "name": "name_pinyin",
        "org": "home_org__path",
        "status": "mobility_status",
        "category": "category",
        "updated": "updated_at",
    }
    default_sort = "name"

    def scoped_queryset(self) -> Any:
        return selectors.members_for(self.request.user)


class MemberDetailView(ScopedDetailView):
    model = Member
    action = Action.MEMBERS_VIEW
    template_name = "members/detail.html"
    context_object_name = "member"

    def scoped_queryset(self) -> Any:
        return selectors.members_for(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        member: Member = self.object
        user = self.request.user
        context["participations"] = member.participations.select_related("organization").order_by(
            "ended_on", "-started_on"
        )
        context["history"] = selectors.member_history(member)
        context["can_reveal"] = can(user, Action.MEMBERS_VIEW_SENSITIVE, member.home_org.path)
        context["can_change"] = (
            Member.objects.visible_to(user, Action.MEMBERS_CHANGE).filter(pk=member.pk).exists()
        )
        context["home_org_visible"] = can(user, Action.ORGS_VIEW, member.home_org.path)
        context["lost_form"] = LostContactForm(initial={"since": dt.date.today()})
        context["restore_form"] = RestoreContactForm(initial={"on": dt.date.today()})
        context["participation_form"] = ParticipationForm(
            actor=user, initial={"started_on": dt.date.today()}
        )
        return context


class MemberCreateView(StaffRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "members/form.html", {"form": MemberForm(actor=request.user)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = MemberForm(request.POST, actor=request.user)
        if form.is_valid():
            try:
                member, warnings = services.create_member(
                    actor=request.user,
                    home_org=form.cleaned_data["home_org"],
                    **form.service_fields(),
                )
            except ValidationError as exc:
                form_errors_from(exc, form)
            else:
                for warning in warnings:
                    messages.warning(request, warning)
                messages.success(request, _("已登记党员 %(name)s。") % {"name": member.name})
                return redirect("members:detail", pk=member.pk)
        return render(request, "members/form.html", {"form": form}, status=400)


class MemberEditView(StaffRequiredMixin, View):
    def get_member(self, request: HttpRequest, pk: int) -> Member:
        from django.shortcuts import get_object_or_404

        return get_object_or_404(selectors.members_for(request.user, Action.MEMBERS_CHANGE), pk=pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        member = self.get_member(request, pk)
        return render(
            request,
            "members/form.html",
            {"form": MemberForm(instance=member, actor=request.user), "member": member},
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        member = self.get_member(request, pk)
        form = MemberForm(
            request.POST, instance=Member.objects.get(pk=member.pk), actor=request.user
        )
        if form.is_valid():
            try:
                member, warnings = services.update_member(
                    actor=request.user, member=member, **form.service_fields()
                )
            except ValidationError as exc:
                form_errors_from(exc, form)
            else:
                for warning in warnings:
                    messages.warning(request, warning)
                messages.success(request, _("已保存。"))
                return redirect("members:detail", pk=member.pk)
        return render(request, "members/form.html", {"form": form, "member": member}, status=400)


class MemberRevealView(StaffRequiredMixin, View):
    """POST only: returns one sensitive field in plain text (htmx swaps it in) and logs the access."""

    def post(self, request: HttpRequest, pk: int, field: str) -> HttpResponse:
        member = selectors.member_detail(request.user, pk)
        try:
            value = services.reveal_sensitive(
                actor=request.user, member=member, field=field, ip=client_ip(request)
            )
        except ValidationError as exc:
            return HttpResponse(" ".join(exc.messages), status=400)
        return render(request, "members/_revealed.html", {"value": value, "field": field})


class MemberActionView(PostActionView):
    """Lost contact, restore, add/end participation."""

    def get_target(self, request: HttpRequest, pk: int) -> Member:
        return selectors.member_detail(request.user, pk)

    def actions(self, request: HttpRequest, target: Member) -> dict[str, Any]:
        user, data = request.user, request.POST
        return {
            "lost": (
                lambda: LostContactForm(data),
                lambda d: services.mark_lost_contact(actor=user, member=target, **d),
            ),
            "restore": (
                lambda: RestoreContactForm(data),
                lambda d: services.restore_contact(actor=user, member=target, **d),
            ),
            "participate": (
                lambda: ParticipationForm(data, actor=user),
                lambda d: services.add_participation(actor=user, member=target, **d),
            ),
            "end-participation": (
                lambda: None,
                lambda d: services.end_participation(
                    actor=user,
                    participation=get_object_or_404(
                        Participation.objects.visible_to(user, Action.MEMBERS_CHANGE),
                        pk=data.get("participation"),
                        member=target,
                    ),
                    ended_on=dt.date.today(),
                ),
            ),
        }

    def redirect_to(self, target: Member) -> HttpResponse:
        return redirect("members:detail", pk=target.pk)


class MemberExportView(StaffRequiredMixin, View):
    """CSV or .xlsx export of the filtered list; masked unless the actor may reveal and asks
    for it."""

    format = "csv"

    def get(self, request: HttpRequest) -> HttpResponse:
        if not can(request.user, Action.MEMBERS_EXPORT):
            from django.http import Http404

            raise Http404
        queryset = selectors.members_for(request.user, Action.MEMBERS_EXPORT)
        filterset = MemberFilter(request.GET or None, queryset=queryset, request=request)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        plain = request.GET.get("plain") == "1"
        export = exports.members_xlsx if self.format == "xlsx" else exports.members_csv
        return export(actor=request.user, queryset=rows, plain=plain, ip=client_ip(request))


def member_autocomplete(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated or request.user.kind != "staff":
        return JsonResponse({"results": []}, status=403)
    members = selectors.search_members(request.user, request.GET.get("q", ""))
    return JsonResponse(
        {
            "results": [
                {
                    "value": m.pk,
                    "text": f"{m.name}（{m.id_masked or m.phone_masked}）· {m.home_org.name}",
                }
                for m in members
            ]
        }
    )
