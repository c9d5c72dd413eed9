import pytest

from yanxing.members.models import Member


@pytest.mark.django_db
def test_world_builds(world):
    assert Member.objects.count() == 3
    assert list(Member.objects.visible_to(world.host_secretary, "members.view")) == [world.m_away]
    assert Member.objects.visible_to(world.other_secretary, "members.view").get() == world.m_other
    assert Member.objects.visible_to(world.home_secretary, "members.view").count() == 2
