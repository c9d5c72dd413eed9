"""The engine end to end on small hand-made ledgers, the command line, and properties that hold
for any input."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yanxing.linkage import COLUMNS, MATCH, REVIEW, dedupe, link
from yanxing.linkage.__main__ import main
from yanxing.linkage.reasons import AMBIGUOUS

# Synthetic ID numbers with valid check characters.
ID_ZENG = "140822199003150711"
ID_WANG_1 = "140822198507020422"
ID_WANG_2 = "140822198507020510"
ID_WANG_3 = "140822198812011215"
ID_LI = "510521197901012318"


def row(record_id: str, name: str, **fields: str) -> dict[str, str]:
    return dict.fromkeys(COLUMNS, "") | {"record_id": record_id, "name": name} | fields


HOME = [
    row(
        "L1",
        "曾丽",
        id_number=ID_ZENG,
        phone="13912340001",
        sex="男",
        birth_date="1990-03-15",
        home_village="解店镇东庄村",
        city="东莞市",
        employer="东莞市华星电子有限公司",
    ),
    row(
        "L2",
        "王建国",
        id_number=ID_WANG_1,
        phone="13912340002",
        sex="女",
        birth_date="1985-07-02",
        home_village="解店镇西村",
        city="深圳市",
    ),
    row(
        "L3",
        "王建国",
        id_number=ID_WANG_2,
        phone="13912340003",
        sex="男",
        birth_date="1985-07-02",
        home_village="解店镇西村",
        city="苏州市",
    ),
    row(
        "L4",
        "李明",
        id_number=ID_LI,
        phone="13912340004",
        sex="男",
        birth_date="1979-01-01",
        home_village="玄滩镇大田村",
        city="成都市",
    ),
]


def by_right(result) -> dict[str, object]:
    return {item.right_id: item for item in result.links}


def test_the_member_who_changed_his_phone_is_found() -> None:
    """He reports in at a host branch with a new phone and types his name with homophones."""
    host = [
        row(
            "R1",
            "增莉",
            id_number=ID_ZENG,
            phone="13800001111",
            home_village="东庄村",
            city="东莞",
            employer="华星电子",
        )
    ]
    result = link(HOME, host)
    (item,) = result.links
    assert (item.left_id, item.right_id, item.decision) == ("L1", "R1", MATCH)
    assert item.score >= 0.99
    assert item.reasons == (
        "身份证号一致",
        "姓名同音（曾丽/增莉）",
        "出生日期一致",
        "性别一致",
        "手机号不同（可能已换号）",
        "户籍村一致（一方未写乡镇）",
        "所在城市一致",
        "工作单位相近",
    )
    assert result.unmatched_right == []
    assert result.unmatched_left == ["L2", "L3", "L4"]
    assert [(c.field, c.left_value, c.right_value) for c in result.conflicts] == [
        ("name", "曾丽", "增莉"),
        ("phone", "13912340001", "13800001111"),
    ]


def test_namesakes_are_told_apart_by_id_number() -> None:
    host = [row("R2", "王建国", id_number=ID_WANG_2, phone="13700000000", city="苏州市")]
    (item,) = link(HOME, host).links
    assert (item.left_id, item.decision) == ("L3", MATCH)


def test_namesakes_without_id_go_to_review_when_nothing_tells_them_apart() -> None:
    host = [row("R3", "王建国", home_village="解店镇西村", birth_date="1985-07-02")]
    (item,) = link(HOME, host).links
    assert item.decision == REVIEW
    assert AMBIGUOUS in item.reasons


def test_namesake_with_another_valid_id_is_not_matched() -> None:
    """An unknown report-in who shares a name and village with a home member."""
    host = [
        row(
            "R4",
            "王建国",
            id_number=ID_WANG_3,
            sex="男",
            birth_date="1988-12-01",
            home_village="解店镇西村",
        )
    ]
    result = link(HOME, host)
    assert [item.decision for item in result.links if item.right_id == "R4"] in ([], [REVIEW])
    assert result.unmatched_right == ["R4"]
    assert result.unmatched_left == ["L1", "L2", "L3", "L4"]


def test_mistyped_id_and_name_still_match() -> None:
    """Two digits of the ID swapped and one character of the name different."""
    swapped = ID_LI[:10] + ID_LI[11] + ID_LI[10] + ID_LI[12:]
    host = [row("R5", "李铭", id_number=swapped, birth_date="1979-01-01", city="成都市")]
    (item,) = link(HOME, host).links
    assert (item.left_id, item.decision) == ("L4", MATCH)
    assert "身份证号仅差一位或两位颠倒（疑似录入错误）" in item.reasons
    assert "姓名同音（李明/李铭）" in item.reasons


def test_twins_of_one_village_are_not_merged_without_an_id() -> None:
    host = [row("R6", "王建军", home_village="解店镇西村", birth_date="1985-07-02", sex="男")]
    (item,) = link(HOME, host).links
    assert (item.left_id, item.decision) == ("L3", REVIEW)
    assert item.reasons[-1] == "姓名读音不同，又无身份证号印证，请人工核对"


def test_no_candidate_no_link() -> None:
    result = link(HOME, [row("R7", "赵志刚", phone="13600000000", birth_date="2000-01-01")])
    assert result.links == []
    assert result.unmatched_right == ["R7"]


def test_duplicates_within_each_table() -> None:
    home = [*HOME, row("L5", "曾丽", id_number=ID_ZENG, phone="13912349999")]
    host = [
        row("R1", "曾丽", id_number=ID_ZENG),
        row("R8", "曾丽", id_number=ID_ZENG, phone="13800001111"),
    ]
    result = link(home, host, duplicates=True)
    assert [(g.side, g.record_ids) for g in result.duplicate_groups] == [
        ("left", ("L1", "L5")),
        ("right", ("R1", "R8")),
    ]
    assert [(g.record_ids) for g in dedupe(home)] == [("L1", "L5")]


def test_empty_tables() -> None:
    result = link([], HOME)
    assert result.links == []
    assert result.unmatched_right == ["L1", "L2", "L3", "L4"]


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    left = write(tmp_path / "left.csv", HOME)
    right = write(
        tmp_path / "right.csv",
        [row("R1", "增莉", id_number=ID_ZENG), row("R7", "赵志刚", birth_date="2000-01-01")],
    )
    out = tmp_path / "links.csv"
    assert main(["--left", str(left), "--right", str(right), "--out", str(out)]) == 0
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [list(r) for r in rows] == [["left_id", "right_id", "score", "decision", "reasons"]]
    assert (rows[0]["left_id"], rows[0]["right_id"], rows[0]["decision"]) == ("L1", "R1", "match")
    assert rows[0]["reasons"].startswith("身份证号一致；姓名同音（曾丽/增莉）")
    printed = capsys.readouterr().out
    assert "left 4 records, right 2 records" in printed
    assert "match 1, review 0" in printed


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

NAMES = ["王建国", "王建军", "曾丽", "增莉", "李明", "李铭", "张静", "张婧", "单雄", "刘宁"]
IDS = ["", ID_ZENG, ID_WANG_1, ID_WANG_2, ID_WANG_3, ID_LI, ID_LI[:10] + "9" + ID_LI[11:]]
VILLAGES = ["", "解店镇西村", "西村", "解店镇东庄村", "玄滩镇大田村"]

records = st.fixed_dictionaries(
    {
        "name": st.sampled_from(NAMES),
        "id_number": st.sampled_from(IDS),
        "phone": st.sampled_from(["", "13912340001", "13912340002", "13800001111"]),
        "sex": st.sampled_from(["", "男", "女"]),
        "birth_date": st.sampled_from(["", "1985-07-02", "1990-03-15", "1985-02-07", "1979-01-01"]),
        "home_village": st.sampled_from(VILLAGES),
    }
)


def numbered(prefix: str, items: list[dict[str, str]]) -> list[dict[str, str]]:
    return [row(f"{prefix}{i}", **item) for i, item in enumerate(items)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records, min_size=1, max_size=12), st.lists(records, min_size=1, max_size=12))
def test_every_right_record_is_linked_at_most_once(
    left: list[dict[str, str]], right: list[dict[str, str]]
) -> None:
    left_rows, right_rows = numbered("L", left), numbered("R", right)
    result = link(left_rows, right_rows, duplicates=True)
    right_ids = [item.right_id for item in result.links]
    assert len(right_ids) == len(set(right_ids))
    assert set(right_ids) <= {r["record_id"] for r in right_rows}
    assert {item.left_id for item in result.links} <= {r["record_id"] for r in left_rows}
    for item in result.links:
        assert item.decision in (MATCH, REVIEW)
        assert 0.0 <= item.score <= 1.0
        assert item.reasons
    matched = {item.right_id for item in result.links if item.decision == MATCH}
    assert sorted(result.unmatched_right) == sorted({r["record_id"] for r in right_rows} - matched)
    for group in result.duplicate_groups:
        assert len(group.record_ids) >= 2
        assert len(set(group.record_ids)) == len(group.record_ids)


def test_command_line_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "links.csv")
    left = write(tmp_path / "left.csv", HOME)
    no_name = tmp_path / "right.csv"
    no_name.write_text("record_id,phone\nR1,13912340001\n", encoding="utf-8")
    assert main(["--left", str(left), "--right", str(no_name), "--out", out]) == 2
    assert capsys.readouterr().err == (
        f"--right {no_name}: 表头缺少 name 列（应为 {','.join(COLUMNS)}）"
        f" / the header lacks name (expected {','.join(COLUMNS)})\n"
    )
    assert main(["--left", str(tmp_path / "none.csv"), "--right", str(left), "--out", out]) == 2
    assert "找不到文件 / file not found" in capsys.readouterr().err
    gb = tmp_path / "gb.csv"
    gb.write_bytes("record_id,name\nR1,曾丽\n".encode("gb18030"))
    assert main(["--left", str(left), "--right", str(gb), "--out", out]) == 2
    assert "不是 UTF-8 编码的 CSV" in capsys.readouterr().err
    assert not Path(out).exists()


def test_command_line_reads_a_byte_order_mark(tmp_path: Path) -> None:
    left = write(tmp_path / "left.csv", HOME)
    right = tmp_path / "right.csv"
    right.write_text("\ufeffrecord_id,name,id_number\nR1,增莉," + ID_ZENG + "\n", encoding="utf-8")
    out = tmp_path / "links.csv"
    assert main(["--left", str(left), "--right", str(right), "--out", str(out)]) == 0
    assert "L1,R1," in out.read_text(encoding="utf-8")


def test_namesakes_of_one_village_share_the_evidence() -> None:
    """Without ID or birth date, a name that is unique in its village is good evidence; two
    people of that name in the village make it a question for a person."""
    home = [
        row("L1", "王伟", sex="男", home_village="解店镇西村", city="东莞市"),
        row("L2", "王伟", sex="男", home_village="解店镇东村", city="东莞市"),
    ]
    host = [row("R1", "王伟", sex="男", home_village="西村", city="东莞市", phone="13800000001")]
    (item,) = link(home, host).links
    assert (item.left_id, item.decision) == ("L1", MATCH)
    crowded = [*home, row("L3", "王伟", sex="男", home_village="解店镇西村", city="东莞市")]
    (item,) = link(crowded, host).links
    assert item.decision == REVIEW
