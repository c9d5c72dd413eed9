"""What goes into the linkage engine and what comes out. Plain data; no Django."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The columns of a person table, in the order of the command-line CSV files.
COLUMNS = (
    "record_id",
    "name",
    "id_number",
    "phone",
    "sex",
    "birth_date",
    "home_village",
    "city",
    "employer",
)

#: Fields compared for conflicts on matched pairs, with their Chinese labels.
FIELD_LABELS = {
    "name": "姓名",
    "id_number": "身份证号",
    "phone": "手机号",
    "sex": "性别",
    "birth_date": "出生日期",
    "home_village": "户籍地",
    "city": "所在城市",
    "employer": "工作单位",
}

MATCH = "match"
REVIEW = "review"
NONE = "none"


@dataclass(frozen=True)
class Link:
    """The best left record for one right record."""

    left_id: str
    right_id: str
    #: Probability that the two records are the same person, 0–1.
    score: float
    #: Sum of the Fellegi–Sunter log2 weights (the evidence behind ``score``).
    weight: float
    #: ``match`` or ``review``.
    decision: str
    #: Plain Chinese sentences: which fields agreed, which disagreed.
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Conflict:
    """A field on which the two records of a matched pair disagree."""

    left_id: str
    right_id: str
    field: str
    left_value: str
    right_value: str

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field)


@dataclass(frozen=True)
class DuplicateGroup:
    """Records of one table (``side`` is ``left`` or ``right``) that are the same person."""

    side: str
    record_ids: tuple[str, ...]
    #: The lowest pairwise score that holds the group together.
    score: float


@dataclass
class LinkResult:
    #: One per right record that has a candidate at or above the review threshold.
    links: list[Link] = field(default_factory=list)
    #: Left records that no right record matched (decision ``match``).
    unmatched_left: list[str] = field(default_factory=list)
    #: Right records with no ``match`` link (they may still have a ``review`` link).
    unmatched_right: list[str] = field(default_factory=list)
    #: Duplicates within each table (filled when ``link(..., duplicates=True)``).
    duplicate_groups: list[DuplicateGroup] = field(default_factory=list)
    #: Field disagreements on ``match`` links.
    conflicts: list[Conflict] = field(default_factory=list)
