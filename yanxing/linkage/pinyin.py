"""Readings of name characters: what a person typing a name with a pinyin keyboard would type.

Names are mistyped through the keyboard: the member types the right syllable and picks the
wrong character (曾/增, 丽/莉). Two names "sound the same" when, position by position, the
characters share a reading. A surname is read as a surname: 曾 is zēng, 单 is shàn, 区 is ōu,
never céng, dān or qū, so 单/丹 are not homophones in the surname position while 曾/增 are.

Fuzzy readings (模糊音) fold the distinctions that many speakers in the south and west do not
make: zh/z, ch/c, sh/s, n/l, h/f before u, r/l, and the finals -ng/-n.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

#: Readings of characters when they are surnames (the heteronyms that trip people up).
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "曾": ("zeng",),
    "单": ("shan",),
    "区": ("ou",),
    "解": ("xie",),
    "仇": ("qiu",),
    "查": ("zha",),
    "朴": ("piao",),
    "盖": ("ge",),
    "乐": ("yue", "le"),
    "覃": ("qin", "tan"),
    "翟": ("zhai",),
    "缪": ("miao",),
    "员": ("yun",),
    "种": ("chong",),
    "繁": ("po",),
    "秘": ("bi",),
    "尉": ("yu", "wei"),
    "长": ("zhang",),
    "重": ("chong",),
    "朝": ("chao",),
    "华": ("hua",),
    "任": ("ren",),
    "沈": ("shen",),
    "宁": ("ning",),
    "折": ("she",),
    "隗": ("wei",),
    "冼": ("xian",),
    "阚": ("kan",),
    "蕃": ("pi",),
    "燕": ("yan",),
    "洗": ("xian",),
    "纪": ("ji",),
    "祭": ("zhai",),
    "句": ("gou",),
    "召": ("shao",),
    "盛": ("sheng",),
    "薄": ("bo",),
    "藏": ("zang",),
    "阿": ("a",),
    "柏": ("bai",),
    "郇": ("huan",),
    "那": ("na",),
    "能": ("nai",),
    "黑": ("he",),
    "谌": ("shen", "chen"),
}

_FUZZY_RULES = [
    (re.compile(r"^zh"), "z"),
    (re.compile(r"^ch"), "c"),
    (re.compile(r"^sh"), "s"),
    (re.compile(r"^n(?!g)"), "l"),
    (re.compile(r"^r"), "l"),
    (re.compile(r"^fu"), "hu"),
    (re.compile(r"^f"), "h"),
    (re.compile(r"ang$"), "an"),
    (re.compile(r"eng$"), "en"),
    (re.compile(r"ing$"), "in"),
    (re.compile(r"ong$"), "on"),
]

#: At most this many readings are kept per character (the rest are rare literary ones).
MAX_READINGS = 3
#: Names are compared over their first few characters; longer names compare exactly only.
NAME_WIDTH = 4


def fuzzy(syllable: str) -> str:
    for pattern, replacement in _FUZZY_RULES:
        syllable = pattern.sub(replacement, syllable)
    return syllable


_TONELESS = str.maketrans(
    {
        **dict.fromkeys("āáǎà", "a"),
        **dict.fromkeys("ōóǒò", "o"),
        **dict.fromkeys("ēéěèê̄ếê̌ề", "e"),
        **dict.fromkeys("īíǐì", "i"),
        **dict.fromkeys("ūúǔù", "u"),
        **dict.fromkeys("ǖǘǚǜü", "v"),
        **dict.fromkeys("ńňǹ", "n"),
        "ḿ": "m",
        "\u0300": None,
        "\u0301": None,
        "\u0304": None,
        "\u030c": None,
    }
)


@cache
def _character_readings() -> dict[int, str]:
    """The pypinyin package's table of characters and their readings (with tones), read from
    its data file: importing the package would also load its phrase dictionary, which takes
    half a second and which single characters do not need."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or spec.origin is None:
        raise ImportError("pypinyin is not installed")
    data = json.loads((Path(spec.origin).parent / "pinyin_dict.json").read_text(encoding="utf-8"))
    return {int(code): readings for code, readings in data.items()}


def general_readings(char: str) -> tuple[str, ...]:
    """A character's readings without tones, most common first (at most MAX_READINGS)."""
    if not ("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"):
        return (char.lower(),)
    toned = _character_readings().get(ord(char))
    if not toned:
        return (char,)
    readings = [r.translate(_TONELESS) for r in toned.split(",")]
    return tuple(dict.fromkeys(readings))[:MAX_READINGS]


def surname_readings(char: str) -> tuple[str, ...]:
    return SURNAME_READINGS.get(char) or general_readings(char)


@dataclass
class Syllables:
    """Numbers for syllables so that readings compare as integers. 0 means "no reading"."""

    ids: dict[str, int] = field(default_factory=dict)

    def id(self, syllable: str) -> int:
        if syllable not in self.ids:
            self.ids[syllable] = len(self.ids) + 1
        return self.ids[syllable]

    def encode(self, readings: tuple[str, ...]) -> list[int]:
        row = [self.id(r) for r in readings[:MAX_READINGS]]
        return row + [0] * (MAX_READINGS - len(row))


@dataclass
class ReadingTables:
    """Per distinct character: its readings as a name character and as a surname."""

    chars: np.ndarray  # sorted code points, uint32
    general: np.ndarray  # (len(chars), MAX_READINGS) int32
    surname: np.ndarray
    general_fuzzy: np.ndarray
    surname_fuzzy: np.ndarray
    key: dict[str, str]  # character → fuzzy syllable of its first reading, for blocking keys
    surname_key: dict[str, str]


def reading_tables(code_points: np.ndarray) -> ReadingTables:
    chars = np.unique(code_points[code_points > 0]).astype(np.uint32)
    exact, folded = Syllables(), Syllables()
    general, surname, general_f, surname_f = [], [], [], []
    key: dict[str, str] = {}
    surname_key: dict[str, str] = {}
    for point in chars.tolist():
        char = chr(point)
        g = general_readings(char)
        s = surname_readings(char)
        general.append(exact.encode(g))
        surname.append(exact.encode(s))
        general_f.append(folded.encode(tuple(fuzzy(r) for r in g)))
        surname_f.append(folded.encode(tuple(fuzzy(r) for r in s)))
        key[char] = fuzzy(g[0])
        surname_key[char] = fuzzy(s[0])
    shape = (len(chars), MAX_READINGS)

    def table(rows: list[list[int]]) -> np.ndarray:
        return np.array(rows, dtype=np.int32).reshape(shape)

    return ReadingTables(
        chars=chars,
        general=table(general),
        surname=table(surname),
        general_fuzzy=table(general_f),
        surname_fuzzy=table(surname_f),
        key=key,
        surname_key=surname_key,
    )


def name_readings(codes: np.ndarray, tables: ReadingTables, *, folded: bool) -> np.ndarray:
    """(rows, NAME_WIDTH, MAX_READINGS) reading ids of each name character; the first position
    uses surname readings."""
    general = tables.general_fuzzy if folded else tables.general
    surname = tables.surname_fuzzy if folded else tables.surname
    index = np.searchsorted(tables.chars, codes)
    index = np.minimum(index, len(tables.chars) - 1)
    present = (codes > 0) & (tables.chars[index] == codes) if len(tables.chars) else codes > 0
    out = np.where(present[..., None], general[index], 0).astype(np.int32)
    out[:, 0, :] = np.where(present[:, 0, None], surname[index[:, 0]], 0)
    return out
