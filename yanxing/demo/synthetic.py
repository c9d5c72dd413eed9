"""Synthetic people for demos, tests and benchmarks. Nothing here describes a real person:
names are drawn from common characters, ID numbers are generated with valid checksums from a
region code, a random birth date and a random sequence, and phone numbers are random."""

from __future__ import annotations

import datetime as dt
import random

from yanxing.core.idnumber import check_char

SURNAMES = "王李张刘杨赵陈吴孙周薛畅卫郭马贾柴荆姚梁任史段宁高曾毛黄罗谢韩唐冯董程曹袁邓许傅沈彭吕苏卢蒋蔡丁魏"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰红玉华建国志海春生文斌荣安平正伦德福永胜金凤晓云飞鹏宇浩然俊峰亮辉"


def synthetic_name(rng: random.Random) -> str:
    given_len = 1 if rng.random() < 0.35 else 2
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(given_len))


def synthetic_id(
    rng: random.Random,
    region6: str,
    sex: str | None = None,
    min_year: int = 1950,
    max_year: int = 2004,
) -> str:
    start = dt.date(min_year, 1, 1).toordinal()
    end = dt.date(max_year, 12, 31).toordinal()
    birth = dt.date.fromordinal(rng.randint(start, end))
    seq = rng.randint(0, 99)
    sex = sex or rng.choice("MF")
    sex_digit = rng.choice("13579" if sex == "M" else "02468")
    first17 = f"{region6}{birth:%Y%m%d}{seq:02d}{sex_digit}"
    return first17 + check_char(first17)


PHONE_PREFIXES = (
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "159",
    "177",
    "186",
    "187",
    "188",
    "189",
    "199",
)


def synthetic_phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"


EMPLOYERS = (
    "建工集团第三项目部",
    "鑫源机械制造有限公司",
    "万家福餐饮管理有限公司",
    "顺达物流有限公司",
    "宏图装饰工程有限公司",
    "华兴电子科技有限公司",
    "山西面食馆",
    "恒通汽车维修中心",
    "安居物业服务有限公司",
    "新城建筑劳务有限公司",
    "优品连锁超市",
    "百川电器有限公司",
    "鸿运包装材料厂",
    "金桥家政服务部",
    "绿源农产品批发市场",
)
