"""Reconciliation pages. Thin: scope comes from the querysets through the selectors and the
base views; writes go through the services, which check the reconciliation action again."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
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
from .filters import ListFilterForm, RunFilter
from .forms import BulkForm, SignOffForm, StartRunForm
from .models import Run, RunConflict
from .services.decisions import APPLICABLE_FIELDS, home_signed
from .services.signoffs import signs_for

PAGE_SIZE = 50
TABS = [
    ("matched", gettext_lazy("已对上")),
    ("review", gettext_lazy("待复核")),
    ("unmanaged", gettext_lazy("外出未纳管")),
    ("unknown", gettext_lazy("来源不明的报到")),
    ("duplicates", gettext_lazy("疑似重复")),
    ("conflicts", gettext_lazy("信息不一致")),
    ("merges", gettext_lazy("合并记录")),
]
HELP = {
    "matched": gettext_lazy(
        "流出地台账与流入地记录对上的党员。“建议匹配”仍需人工确认，确认后才会关联档案。"
    ),
    "review": gettext_lazy("系统无法确定是否同一人的配对，请逐一核对依据后确认或驳回。"),
    "unmanaged": gettext_lazy("外出党员中，没有任何流入地党组织掌握的人（外出未纳管）。"),
    "unknown": gettext_lazy("流入地有、但不在流出地外出党员台账上的记录（来源不明的报到）。"),
    "duplicates": gettext_lazy("同一台账内疑似同一人的多条记录。"),
    "conflicts": gettext_lazy("已对上的配对中，双方信息不一致的字段。"),
    "merges": gettext_lazy("确认配对时对党员档案所做的变更，可撤销。"),
}


class RunListView(ScopedListView):
    model = Run
    action = Action.MEMBERS_VIEW
    filterset_class = RunFilter
    template_name = "reconciliation/list.html"

    def scoped_queryset(self) -> Any:
        return selectors.runs_for(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["overdue"] = selectors.overdue_for(self.request.user)
        context["can_start"] = can(self.request.user, Action.RECONCILE)
        return context


class RunCreateView(StaffRequiredMixin, View):
    def form(self, request: HttpRequest) -> StartRunForm:
        if not can(request.user, Action.RECONCILE):
            raise Http404
        return StartRunForm(request.POST or None, actor=request.user)

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "reconciliation/form.html", {"form": self.form(request)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.form(request)
        if form.is_valid():
            try:
                run = services.start_run(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(exc, form)
            else:
                messages.success(request, _("对账已开始，完成后结果显示在本页。"))
                return redirect("reconciliation:detail", pk=run.pk)
        return render(request, "reconciliation/form.html", {"form": form}, status=400)


class RunDetailView(ScopedDetailView):
    model = Run
    action = Action.MEMBERS_VIEW
    template_name = "reconciliation/detail.html"
    context_object_name = "run"

    def scoped_queryset(self) -> Any:
        return selectors.runs_for(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        run: Run = self.object
        user = self.request.user
        context["home_side"] = can(user, Action.MEMBERS_VIEW, run.home_org.path)
        context["hosts"] = [rh.organization for rh in getattr(run, "visible_hosts", [])]
        signed = {s.organization_id: s for s in getattr(run, "visible_signoffs", [])}
        context["sides"] = [(run.home_org, "home", signed.get(run.home_org_id))] + [
            (host, "host", signed.get(host.pk)) for host in context["hosts"]
        ]
        if not run.is_finished:
            context["may_retry"] = can(user, Action.RECONCILE, run.home_org.path)
            return context
        lists = selectors.run_lists(user, run)
        name = self.request.GET.get("list", "matched")
        if name not in selectors.LISTS:
            name = "matched"
        form = ListFilterForm(self.request.GET or None, hosts=context["hosts"], list_name=name)
        rows = selectors.filtered(user, lists, name, form)
        page = Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page"))
        params = self.request.GET.copy()
        params.pop("page", None)
        locked = home_signed(run)
        counts = lists.counts()
        context.update(
            {
                "lists": lists,
                "counts": counts,
                "tabs": [(key, label, counts[key]) for key, label in TABS],
                "list_help": HELP[name],
                "list_name": name,
                "filter_form": form,
                "page_obj": page,
                "rows": page.object_list,
                "query_string": params.urlencode(),
                "home_signed": locked,
                "can_decide": services.may_decide(user, run) and not locked,
                "can_export": can(user, Action.MEMBERS_EXPORT, run.home_org.path)
                or any(can(user, Action.MEMBERS_EXPORT, h.path) for h in context["hosts"]),
                "signoff_form": SignOffForm(organizations=services.signable(user, run)),
                "applicable_fields": APPLICABLE_FIELDS,
            }
        )
        return context


class RunStatusView(ScopedDetailView):
    """The progress partial that the run page polls while the job runs (htmx)."""

    model = Run
    action = Action.MEMBERS_VIEW
    template_name = "reconciliation/_status.html"
    context_object_name = "run"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["may_retry"] = can(self.request.user, Action.RECONCILE, self.object.home_org.path)
        return context

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        if self.object.status == Run.Status.FINISHED and getattr(self.request, "htmx", False):
            response["HX-Refresh"] = "true"
        return response


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


class RunActionView(PostActionView):
    """Sign off, retry, and bulk confirm / reject."""

    def get_target(self, request: HttpRequest, pk: int) -> Run:
        return selectors.run_detail(request.user, pk)

    def actions(self, request: HttpRequest, target: Run) -> dict[str, Any]:
        user, data = request.user, request.POST
        verbs: dict[str, Any] = {}
        signable = services.signable(user, target)
        if signs_for(user, target):
            verbs["signoff"] = (
                lambda: SignOffForm(data, organizations=signable),
                lambda d: services.sign_off(
                    actor=user,
                    run=target,
                    organization=SignOffForm.chosen_from(d, signable),
                    note=d["note"],
                ),
            )
        # Verbs the actor may not use here are answered like unknown ones (404).
        if services.may_decide(user, target):
            verbs["retry"] = (lambda: None, lambda d: services.retry_run(actor=user, run=target))
            verbs["bulk"] = (lambda: BulkForm(data), lambda d: self.bulk(target, d))
        return verbs

    def bulk(self, run: Run, data: dict[str, Any]) -> None:
        done, refused = services.bulk_decide(
            actor=self.request.user, run=run, pair_ids=data["pairs"], decision=data["decision"]
        )
        for pair, reason in refused:
            messages.warning(self.request, f"{pair.left.name} ↔ {pair.right.name}：{reason}")
        if not done:
            raise ValidationError(_("没有处理任何配对。"))

    def redirect_to(self, target: Run) -> HttpResponse:
        return _back(self.request, reverse("reconciliation:detail", args=[target.pk]))


class PairActionView(PostActionView):
    """Confirm, reject, or reopen one pair."""

    def get_target(self, request: HttpRequest, pk: int) -> Any:
        return selectors.pair_detail(request.user, pk)

    def actions(self, request: HttpRequest, target: Any) -> dict[str, Any]:
        user = request.user
        return {
            "confirm": (lambda: None, lambda d: services.confirm_pair(actor=user, pair=target)),
            "reject": (lambda: None, lambda d: services.reject_pair(actor=user, pair=target)),
            "reopen": (lambda: None, lambda d: services.reopen_pair(actor=user, pair=target)),
        }

    def redirect_to(self, target: Any) -> HttpResponse:
        return _back(self.request, reverse("reconciliation:detail", args=[target.run_id]))


class MergeActionView(PostActionView):
    def get_target(self, request: HttpRequest, pk: int) -> Any:
        return selectors.merge_detail(request.user, pk)

    def actions(self, request: HttpRequest, target: Any) -> dict[str, Any]:
        user = request.user
        return {"undo": (lambda: None, lambda d: services.undo_merge(actor=user, merge=target))}

    def redirect_to(self, target: Any) -> HttpResponse:
        return _back(self.request, reverse("reconciliation:detail", args=[target.run_id]))


class ConflictActionView(PostActionView):
    def get_target(self, request: HttpRequest, pk: int) -> Any:
        return selectors.conflict_detail(request.user, pk)

    def actions(self, request: HttpRequest, target: Any) -> dict[str, Any]:
        user = request.user

        def resolve(choice: str) -> Any:
            return lambda d: services.resolve_conflict(actor=user, conflict=target, choice=choice)

        return {
            "keep-home": (lambda: None, resolve(RunConflict.Resolution.HOME)),
            "apply-host": (lambda: None, resolve(RunConflict.Resolution.HOST)),
        }

    def redirect_to(self, target: Any) -> HttpResponse:
        return _back(self.request, reverse("reconciliation:detail", args=[target.run_id]))


class RunExportView(StaffRequiredMixin, View):
    """The run's report as .xlsx, as the actor sees the run; masked; access-logged."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = selectors.run_detail(request.user, pk, Action.MEMBERS_EXPORT)
        if not run.is_finished:
            raise Http404
        lists = selectors.run_lists(request.user, run, Action.MEMBERS_EXPORT)
        if can(request.user, Action.MEMBERS_EXPORT, run.home_org.path):
            side = run.home_org
        else:
            side = getattr(run, "visible_hosts", [])[0].organization
        return exports.run_xlsx(
            actor=request.user,
            lists=lists,
            signoffs=getattr(run, "visible_signoffs", []),
            organization=side,
            ip=client_ip(request),
        )
