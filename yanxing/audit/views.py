from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _

from yanxing.access.roles import Action
from yanxing.core.views import ScopedListView

from .filters import AuditFilter
from .models import AccessLog, Event


class EventFilter(AuditFilter):
    verb = django_filters.CharFilter(label=_("事件"), field_name="verb", lookup_expr="startswith")

    class Meta:
        model = Event
        fields = ["org", "actor", "verb", "date_from", "date_to"]


class AccessFilter(AuditFilter):
    action = django_filters.ChoiceFilter(label=_("操作"), choices=AccessLog.Action.choices)

    class Meta:
        model = AccessLog
        fields = ["org", "actor", "action", "date_from", "date_to"]


class EventListView(ScopedListView):
    model = Event
    action = Action.AUDIT_VIEW
    filterset_class = EventFilter
    template_name = "audit/events.html"
    paginate_by = 50
    sort_fields = {"time": "created_at"}
    default_sort = "-time"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "tab": "events"}


class AccessLogListView(ScopedListView):
    model = AccessLog
    action = Action.AUDIT_VIEW
    filterset_class = AccessFilter
    template_name = "audit/access.html"
    paginate_by = 50
    sort_fields = {"time": "created_at"}
    default_sort = "-time"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "tab": "access"}


class ChangeListView(ScopedListView):
    """Field-level history of members (django-simple-history), scoped by the member's home org."""

    template_name = "audit/changes.html"
    action = Action.AUDIT_VIEW
    paginate_by = 50

    def scoped_queryset(self) -> Any:
        from yanxing.access.policy import granted_roots
        from yanxing.core.paths import any_subtree_q
        from yanxing.members.models import Member

        roots = granted_roots(self.request.user, self.action)
        if not roots:
            return Member.history.none()
        return Member.history.filter(any_subtree_q("home_org__path", roots)).select_related(
            "history_user", "home_org"
        )

    def get_queryset(self) -> Any:
        self.filterset = None
        self.current_sort = ""
        return self.scoped_queryset().order_by("-history_date", "-history_id")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rows = []
        for record in context["object_list"]:
            previous = record.prev_record
            changed = []
            if previous is not None:
                changed = [c.field for c in record.diff_against(previous).changes]
            rows.append((record, changed))
        context["rows"] = rows
        context["tab"] = "changes"
        return context
