from qiaoliang.orgs.models import Enterprise


def test_world_builds_and_staff_sees_all_enterprises(world):
    assert Enterprise.objects.for_user(world.staff).count() == 3
    assert list(Enterprise.objects.for_user(world.secretary).values_list("name", flat=True)) == [
        "北京天马辉科技有限公司"
    ]
