"""Ledger import pages. Thin: scope comes from the base views and selectors, writes go
through services. One page per batch shows whatever its state calls for: progress, the
preview with row problems and the confirm button, or the summary."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views import View

from yanxing.access.roles import Action
from yanxing.accounts.views import client_ip
from yanxing.core.views import (
    ScopedDetailView,
    ScopedListView,
    StaffRequiredMixin,
    form_errors_from,
)

from . import selectors, services
from .forms import UploadForm
from .kinds import KINDS
from .models import ImportBatch, ImportPayload
from .progress import live_progress
from .reading import Limits, ReadError, size_text
from .workbooks import template_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN_ISSUES = 500
#: Room for the multipart envelope and the other fields around the file.
UPLOAD_OVERHEAD = 64 * 1024


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


class BatchListView(ScopedListView):
    model = ImportBatch
    action = Action.LEDGERS_IMPORT
    template_name = "ledgers/list.html"
    sort_fields = {"created": "created_at", "status": "status", "org": "organization__path"}
    default_sort = "-created"

    def scoped_queryset(self) -> Any:
        return selectors.batches_for(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["kinds"] = KINDS.values()
        context["may_import"] = selectors.may_import(self.request.user)
        return context


class UploadView(StaffRequiredMixin, View):
    def _check(self, request: HttpRequest) -> None:
        if not selectors.may_import(request.user):
            raise Http404

    def get(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        initial = {"kind": request.GET.get("kind", "members")}
        form = UploadForm(actor=request.user, initial=initial)
        return render(request, "ledgers/upload.html", {"form": form, "kinds": KINDS.values()})

    def post(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        limits = Limits.from_settings()
        if int(request.META.get("CONTENT_LENGTH") or 0) > limits.max_bytes + UPLOAD_OVERHEAD:
            # Refused before Django reads the body into a temporary file.
            messages.error(request, str(ReadError("too_big", limit=size_text(limits.max_bytes))))
            context = {"form": UploadForm(actor=request.user), "kinds": KINDS.values()}
            return render(request, "ledgers/upload.html", context, status=413)
        form = UploadForm(request.POST, request.FILES, actor=request.user)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = services.upload_batch(
                    actor=request.user,
                    organization=form.cleaned_data["organization"],
                    kind=form.cleaned_data["kind"],
                    file_name=upload.name,
                    data=upload.read(),
                    full_list=form.cleaned_data["full_list"],
                )
            except ValidationError as exc:
                form_errors_from(exc, form)
            else:
                return redirect("ledgers:detail", pk=batch.pk)
        context = {"form": form, "kinds": KINDS.values()}
        return render(request, "ledgers/upload.html", context, status=400)


class BatchDetailView(ScopedDetailView):
    model = ImportBatch
    action = Action.LEDGERS_IMPORT
    template_name = "ledgers/detail.html"
    context_object_name = "batch"

    def scoped_queryset(self) -> Any:
        return selectors.batches_for(self.request.user)

    def get_object(self, queryset: Any = None) -> ImportBatch:
        batch: ImportBatch = super().get_object(queryset)
        return services.fail_if_stalled(batch=batch)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        batch: ImportBatch = self.object
        context["percent"] = live_progress(batch)[0]
        context["kind"] = KINDS[batch.kind]
        issues, total = selectors.batch_issues(batch, SHOWN_ISSUES)
        context["issues"] = issues
        context["issue_total"] = total
        # Failed rows are kept for a while only (see services.KEEP_ERROR_ROWS).
        context["has_error_rows"] = (
            batch.failed_count > 0
            and batch.status in (ImportBatch.Status.VALIDATED, ImportBatch.Status.DONE)
            and ImportPayload.objects.filter(batch=batch).exists()
        )
        return context


class BatchStatusView(BatchDetailView):
    """The progress partial that the batch page polls (htmx). Once the work is over it asks
    htmx to reload the page, which then shows the preview or the summary."""

    template_name = "ledgers/_status.html"

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        if getattr(self.request, "htmx", False) and not self.object.is_working:
            response["HX-Refresh"] = "true"
        return response


class BatchActionView(StaffRequiredMixin, View):
    """POST confirm / cancel on a batch the actor may see."""

    def post(self, request: HttpRequest, pk: int, verb: str) -> HttpResponse:
        batch = selectors.batch_detail(request.user, pk)
        try:
            if verb == "confirm":
                services.confirm_batch(actor=request.user, batch=batch)
                messages.success(request, _("已确认，正在后台导入。"))
            elif verb == "cancel":
                services.cancel_batch(actor=request.user, batch=batch)
                messages.success(request, _("已取消，上传的数据已删除。"))
            else:
                raise Http404
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("ledgers:detail", pk=batch.pk)


class ErrorWorkbookView(StaffRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = selectors.batch_detail(request.user, pk)
        content = services.error_workbook(actor=request.user, batch=batch, ip=client_ip(request))
        stem = batch.file_name.rsplit(".", 1)[0]
        return xlsx_response(content, _("%(name)s-错误行.xlsx") % {"name": stem})


class TemplateView(StaffRequiredMixin, View):
    def get(self, request: HttpRequest, kind: str) -> HttpResponse:
        if kind not in KINDS or not selectors.may_import(request.user):
            raise Http404
        ledger = KINDS[kind]
        return xlsx_response(template_workbook(ledger), f"{ledger.sheet_title}模板.xlsx")
