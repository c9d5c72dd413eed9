"""Record linkage of person records: who on one list is who on another, and who is listed twice.

No Django here: the engine reads plain tables (a polars DataFrame, or rows as mappings with the
columns of ``COLUMNS``) so that the command line (``python -m yanxing.linkage``), the
reconciliation runs and the report-in check all use the same code.

    result = link(left_rows, right_rows, duplicates=True)
    for item in result.links: item.left_id, item.right_id, item.score, item.decision, item.reasons
"""

from .engine import dedupe, link
from .types import (
    COLUMNS,
    FIELD_LABELS,
    MATCH,
    NONE,
    REVIEW,
    Conflict,
    DuplicateGroup,
    Link,
    LinkResult,
)

__all__ = [
    "COLUMNS",
    "FIELD_LABELS",
    "MATCH",
    "NONE",
    "REVIEW",
    "Conflict",
    "DuplicateGroup",
    "Link",
    "LinkResult",
    "dedupe",
    "link",
]
