"""Domain errors raised by services; views turn them into form errors or HTTP 400/404."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

__all__ = ["BusinessRuleError", "OutOfScope", "PermissionDenied", "ValidationError"]


class BusinessRuleError(ValidationError):
    """A request that breaks a rule of the domain (message in Chinese / English)."""


class OutOfScope(Http404):
    """The actor may not touch this record; answered exactly like a missing record (404)."""
