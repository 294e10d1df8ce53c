"""The appeal categories every installation starts with (staff may add, rename or deactivate them in the admin)."""

from django.db import migrations

CATEGORIES = [
    ("financing", "融资信贷", "贷款、担保、续贷、融资成本"),
    ("tax", "税费减免与退税", "减税降费、留抵退税、出口退税、社保费"),
    ("land", "用地用房", "产业用地、厂房、租金、产权证办理"),
    ("approval", "审批许可与市场准入", "证照办理、资质、准入、登记注册"),
    ("construction", "工程建设与施工许可", "施工许可、竣工验收、工程款、建筑市场"),
    ("talent", "人才引进与用工社保", "落户、人才公寓、招工、社保、劳动关系"),
    ("policy", "惠企政策兑现", "补贴、奖励、政策申报与兑现进度"),
    ("payment", "账款拖欠与清欠", "政府部门、国企、大企业拖欠账款"),
    ("market", "市场开拓与外贸", "展会、订单、外贸、物流、供应链"),
    ("legal", "法律纠纷与执法", "合同纠纷、执法检查、知识产权以外的法律事务"),
    ("utilities", "水电气热与基础设施", "供水供电供气供热、道路、网络"),
    ("ip", "知识产权", "专利、商标、侵权维权"),
    ("other", "其他", "以上之外的困难和建议"),
]


def load(apps, schema_editor):
    category = apps.get_model("appeals", "AppealCategory")
    for position, (code, name, description) in enumerate(CATEGORIES):
        category.objects.get_or_create(
            code=code, defaults={"name": name, "description": description, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("appeals", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
