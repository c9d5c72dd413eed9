"""Base views. Access control lives here, not in individual views: querysets come from
`visible_to(user, action)`, so an out-of-scope record is simply not found (404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView

SORT_PARAM = "sort"


class StaffRequiredMixin(AccessMixin):
    """Signed-in staff only; members are sent to their own pages, anonymous users to sign in."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return self.handle_no_permission()
        if getattr(user, "kind", "") != "staff":
            from django.shortcuts import redirect

            return redirect("accounts:member_home")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class ScopedQuerysetMixin:
    """`model` and `action` say what is read; the queryset is always scoped to the actor."""

    model: Any
    action: str
    request: HttpRequest

    def scoped_queryset(self) -> QuerySet[Any]:
        return self.model.objects.visible_to(self.request.user, self.action)

    def get_queryset(self) -> QuerySet[Any]:
        return self.scoped_queryset()


class ScopedListView(StaffRequiredMixin, ScopedQuerysetMixin, ListView):
    """List page with a django-filter filterset, sorting by whitelisted columns and pagination."""

    filterset_class: Any = None
    sort_fields: dict[str, str] = {}
    default_sort = ""
    paginate_by = 25

    def get_queryset(self) -> QuerySet[Any]:
        queryset = self.scoped_queryset()
        self.filterset = None
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(
                self.request.GET or None, queryset=queryset, request=self.request
            )
            queryset = (
                self.filterset.qs
                if self.filterset.is_bound and self.filterset.is_valid()
                else queryset
            )
        sort = self.request.GET.get(SORT_PARAM, self.default_sort)
        self.current_sort = sort if sort.lstrip("-") in self.sort_fields else self.default_sort
        if self.current_sort:
            column = self.sort_fields[self.current_sort.lstrip("-")]
            prefix = "-" if self.current_sort.startswith("-") else ""
            queryset = queryset.order_by(prefix + column, "pk")
        return queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["current_sort"] = self.current_sort
        params = self.request.GET.copy()
        params.pop("page", None)
        context["query_string"] = params.urlencode()
        params.pop(SORT_PARAM, None)
        context["query_without_sort"] = params.urlencode()
        return context

    def get_template_names(self) -> list[str]:
        names = super().get_template_names()
        if getattr(self.request, "htmx", False) and self.partial_template:
            return [self.partial_template]
        return names

    partial_template = ""


class ScopedDetailView(StaffRequiredMixin, ScopedQuerysetMixin, DetailView):
    pass


def form_errors_from(exc: ValidationError, form: Any) -> None:
    """Copy a service's ValidationError onto a form (field errors where the field exists)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(
                    target, error.messages[0] if hasattr(error, "messages") else str(error)
                )
    else:
        for message in exc.messages:
            form.add_error(None, message)


FormFactory = Callable[[], Any]
ServiceCall = Callable[[dict[str, Any]], Any]


class PostActionView(StaffRequiredMixin, View):
    """One POST endpoint per verb on a record the actor may see: build the verb's form (or
    none), call its service with the cleaned data, report the outcome, go back to the record."""

    def get_target(self, request: HttpRequest, pk: int) -> Any:
        raise NotImplementedError

    def actions(
        self, request: HttpRequest, target: Any
    ) -> dict[str, tuple[FormFactory, ServiceCall]]:
        raise NotImplementedError

    def redirect_to(self, target: Any) -> HttpResponse:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int, verb: str) -> HttpResponse:
        target = self.get_target(request, pk)
        action = self.actions(request, target).get(verb)
        if action is None:
            raise Http404
        make_form, call = action
        form = make_form()
        try:
            if form is None or form.is_valid():
                call(form.cleaned_data if form is not None else {})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if form is not None and form.errors:
                for errors in form.errors.values():
                    messages.error(request, " ".join(errors))
            else:
                messages.success(request, _("已保存。"))
        return self.redirect_to(target)
