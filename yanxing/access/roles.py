"""Roles and the actions they allow. Granted at an organization, a role applies to its subtree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise


class Action:
    ORGS_VIEW = "orgs.view"
    ORGS_CHANGE = "orgs.change"
    ORGS_SECURITY = "orgs.security"
    MEMBERS_VIEW = "members.view"
    MEMBERS_CHANGE = "members.change"
    MEMBERS_VIEW_SENSITIVE = "members.view_sensitive"
    MEMBERS_EXPORT = "members.export"
    LEDGERS_IMPORT = "ledgers.import"
    RECONCILE = "reconciliation.run"
    CARE_VIEW_NOTES = "care.view_notes"
    ACCESS_GRANT = "access.grant"
    AUDIT_VIEW = "audit.view"


@dataclass(frozen=True)
class Role:
    code: str
    label: _StrOrPromise
    actions: frozenset[str]


_READ = {Action.ORGS_VIEW, Action.MEMBERS_VIEW}
_WRITE = _READ | {Action.MEMBERS_CHANGE}

ROLES: dict[str, Role] = {
    role.code: role
    for role in [
        Role(
            "county_admin",
            _("县委组织部管理员"),
            frozenset(
                _WRITE
                | {
                    Action.ORGS_CHANGE,
                    Action.ORGS_SECURITY,
                    Action.MEMBERS_VIEW_SENSITIVE,
                    Action.MEMBERS_EXPORT,
                    Action.LEDGERS_IMPORT,
                    Action.RECONCILE,
                    Action.CARE_VIEW_NOTES,
                    Action.ACCESS_GRANT,
                    Action.AUDIT_VIEW,
                }
            ),
        ),
        Role(
            "branch_secretary",
            _("党组织书记"),
            frozenset(
                _WRITE
                | {
                    Action.MEMBERS_VIEW_SENSITIVE,
                    Action.MEMBERS_EXPORT,
                    Action.LEDGERS_IMPORT,
                    Action.RECONCILE,
                    Action.CARE_VIEW_NOTES,
                }
            ),
        ),
        Role("branch_staff", _("党务工作者"), frozenset(_WRITE | {Action.LEDGERS_IMPORT})),
        Role("auditor", _("审计员"), frozenset(_READ | {Action.AUDIT_VIEW})),
        Role("viewer", _("查看者"), frozenset(_READ)),
    ]
}

ROLE_CHOICES = [(role.code, role.label) for role in ROLES.values()]


def actions_of(role_code: str) -> frozenset[str]:
    role = ROLES.get(role_code)
    return role.actions if role else frozenset()
