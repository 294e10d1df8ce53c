"""Demo policies: the annotated Zhejiang dev policies (real documents, 1,068 computable rules) and one example
policy written for the demo enterprises, with figures, honours, pushes, questions and 免申即享 cases, so each
role has work on its first visit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from qiaoliang.accounts.models import Role, RoleAssignment, User
from qiaoliang.core.models import Region
from qiaoliang.orgs.models import Enterprise, Organization
from qiaoliang.policies import library_loader
from qiaoliang.policies.models import (
    AutoGrantCase,
    EnterpriseFact,
    EnterpriseHonour,
    Policy,
    PolicyQuestion,
    SupportItem,
)
from qiaoliang.policies.services import autogrant, decisions, questions, rulebook
from qiaoliang.policies.services import facts as fact_service
from qiaoliang.policies.services import library as library_service


@dataclass
class SeedResult:
    created: bool
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def _example_items(region_prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "item": {
                "name": "高新技术企业研发投入补助",
                "delivery": "apply",
                "max_amount": "100万元",
                "benefit": "按上年度研发投入的10%给予补助，最高100万元；研发投入占营业收入5%以上的最高150万元。",
                "how_to_apply": "每年4月通过“桥梁”平台提交申报表和研发费用专项审计报告。",
            },
            "expression": {
                "all": [
                    [{"field": "honour", "op": "has", "value": "hnte.national", "label": "国家高新技术企业"}],
                    [{"field": "revenue", "op": "gte", "text": "2000万元", "label": "上年度营业收入不低于2000万元"}],
                    [{"field": "rd_ratio", "op": "gte", "text": "3%", "label": "研发投入占营业收入不低于3%"}],
                ],
                "tiers": [
                    {"label": "一档", "amount": "1000000", "all": [[{"field": "rd_ratio", "op": "gte", "text": "3%"}]]},
                    {"label": "二档", "amount": "1500000", "all": [[{"field": "rd_ratio", "op": "gte", "text": "5%"}]]},
                ],
            },
        },
        {
            "item": {
                "name": "小微企业稳岗补贴（免申即享）",
                "delivery": "automatic",
                "max_amount": "5万元",
                "benefit": "按参保职工人数每人1000元发放稳岗补贴，最高5万元，无需申请，数据比对后直接拨付。",
                "how_to_apply": "无需申请：名单确认后在平台确认领取意愿即可。",
            },
            "expression": {
                "all": [
                    [{"field": "region", "op": "in", "value": [region_prefix], "label": "在本市注册"}],
                    [{"field": "employees", "op": "gte", "text": "10人", "label": "上年度参保职工不少于10人"}],
                    [{"field": "employees", "op": "lt", "text": "300人", "label": "上年度参保职工少于300人"}],
                    [{"field": "declaration", "op": "eq", "value": "近一年无重大违法行为"}],
                ]
            },
        },
        {
            "item": {
                "name": "规上工业企业技术改造奖励",
                "delivery": "apply",
                "max_amount": "200万元",
                "benefit": "按设备投资额的8%给予奖励，最高200万元。",
                "how_to_apply": "项目竣工后6个月内提交设备发票和验收报告。",
            },
            "expression": {
                "all": [
                    [{"field": "threshold", "op": "eq", "value": "above_scale_industry", "label": "规模以上工业企业"}],
                    [
                        {
                            "field": "declared_money",
                            "key": "设备投资额",
                            "op": "gte",
                            "text": "500万元",
                            "label": "技术改造项目设备投资额不低于500万元",
                        }
                    ],
                ]
            },
        },
    ]


def seed(*, load_library: bool = True) -> SeedResult:
    """Create the demo policies (idempotent: nothing when policies exist)."""
    if Policy.objects.exists():
        return SeedResult(False, "policies exist already")
    staff = User.objects.filter(username="staff").first()
    contact = RoleAssignment.objects.filter(user__username="enterprise", role=Role.ENTERPRISE_CONTACT).first()
    liaison = RoleAssignment.objects.filter(user__username="liaison", role=Role.DEPARTMENT_LIAISON).first()
    federation = Organization.objects.filter(kind="federation").order_by("path").first()
    if staff is None or contact is None or contact.enterprise is None or federation is None:
        return SeedResult(False, "run seed_demo first")
    enterprise: Enterprise = contact.enterprise
    enterprise_user = contact.user
    counts: dict[str, int] = {}
    with transaction.atomic():
        if load_library:
            report = library_loader.load(organization=federation, actor=staff, publish=True)
            counts["dev policies"] = report.policies
            counts["dev rules"] = report.rules
        region_prefix = (enterprise.region_id or "110000")[:2]
        policy = library_service.create_policy(actor=staff, organization=federation, data={
            "title": "关于支持中小微企业高质量发展的若干措施（演示）", "issuer": "市经济和信息化局",
            "document_number": "示经信发〔2026〕8号", "level": "municipal",
            "region": Region.objects.filter(code=f"{region_prefix}0000").first(),
            "department": liaison.department if liaison else None,
            "summary": "演示数据：为展示政策计算与推送而编写，条款仿照各地惠企政策的常见写法。",
            "full_text": "一、支持企业加大研发投入。对国家高新技术企业，上年度营业收入不低于2000万元"
                         "且研发投入占营业收入不低于3%的，按上年度研发投入的10%给予补助，最高100万元。\n"
                         "二、稳定就业岗位。对在本市注册、上年度参保职工10人以上300人以下且近一年无重大违法行为的小微企业，"
                         "免申即享稳岗补贴。\n"
                         "三、鼓励技术改造。对规模以上工业企业实施设备投资额500万元以上的技术改造项目，按设备投资额的8%给予奖励。",
        })  # fmt: skip
        clauses = list(policy.clauses.order_by("position"))
        for index, spec in enumerate(_example_items(region_prefix)):
            clause = clauses[min(index, len(clauses) - 1)] if clauses else None
            item = library_service.save_item(actor=staff, policy=policy, data={**spec["item"], "clause": clause})
            rule = rulebook.save_rule(actor=staff, item=item, expression=spec["expression"], clause=clause,
                                      activate=False)  # fmt: skip
            rulebook.activate_rule(actor=staff, rule=rule)
        counts["example items"] = 3
        year = timezone.localdate().year - 1
        for field_code, value in (("revenue", "3200万元"), ("rd_expense", "128万元"), ("employees", "46人"),
                                  ("tax", "185万元")):  # fmt: skip
            fact_service.set_fact(actor=staff, enterprise=enterprise, field=field_code, value=value, year=year)
        fact_service.set_fact(actor=staff, enterprise=enterprise, field="revenue", value="2900万元", year=year - 1)
        fact_service.set_fact(actor=enterprise_user, enterprise=enterprise, field="declaration",
                              key="近一年无重大违法行为", value="是")  # fmt: skip
        fact_service.set_honour(actor=staff, enterprise=enterprise, text="国家高新技术企业", issuer="科技部")
        # one figure entered by the enterprise and not reviewed yet: work for staff
        fact_service.set_fact(actor=enterprise_user, enterprise=enterprise, field="export_value", value="260万元",
                              year=year)  # fmt: skip
        policy = library_service.publish(actor=staff, policy=policy)
        totals = decisions.recompute_policy(policy.pk)
        counts["eligible pairs"] = totals["eligible"]
        counts["pushes"] = totals["pushed"]
        automatic = SupportItem.objects.filter(policy=policy, delivery=SupportItem.Delivery.AUTOMATIC).first()
        if automatic is not None:
            own = AutoGrantCase.objects.filter(item=automatic, enterprise=enterprise).values_list("pk", flat=True)
            counts["grant cases"] = autogrant.confirm_list(actor=staff, item=automatic, case_ids=list(own))
        asked = questions.ask(actor=enterprise_user, policy=policy, complexity="simple",
                              question="研发投入补助中的研发投入是否包括委托外部机构研发的费用？")  # fmt: skip
        answerer = liaison.user if liaison and liaison.department_id == policy.department_id else staff
        questions.answer(actor=answerer, question=asked, in_faq=True,
                         text="包括。委托外部研发费用按实际发生额的80%计入研发投入，"
                              "须提供技术开发合同登记证明。")  # fmt: skip
        questions.ask(actor=enterprise_user, policy=policy, complexity="complex",
                      question="我公司去年新增一条产线，设备投资额480万元，今年追加30万元，"
                               "能否合并计算技术改造设备投资额？")  # fmt: skip
        counts["questions"] = PolicyQuestion.objects.count()
        counts["facts"] = EnterpriseFact.objects.count() + EnterpriseHonour.objects.count()
    return SeedResult(True, "", counts)
