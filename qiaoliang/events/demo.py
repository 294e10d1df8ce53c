"""Demo events for the demo federation of `manage.py seed_demo`, all written through the services.

What the seeds describe, placed around today: a public lecture series with numbered issues (北京人力资源讲堂
第11–13期: online, hybrid, coming), a hybrid meeting with a livestream (主会场+网络直播), a resource exchange
meeting (资源信息交流会) running today with participants, meeting requests, a schedule and a few outcomes, a
zone's 碰头会 with minutes, a 座谈会 where the department liaison speaks, a party-building activity and a
concluded issue with check-ins, an imported online attendee export and survey answers. Running it again
changes nothing.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.accounts.models import Role, RoleAssignment, User
from qiaoliang.events import services
from qiaoliang.events.models import Event, EventSeries, Meeting, Registration
from qiaoliang.exchange.models import Listing
from qiaoliang.orgs.models import Enterprise, Membership, Organization, Person, Zone

FEDERATION_CODE = "BJGSL"
SERIES_NAME = "北京人力资源讲堂"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鑫宇浩凯晨"


@dataclass
class SeedResult:
    """What seeding made, or why it made nothing."""

    created: bool
    message: Any = ""
    counts: dict[str, int] = field(default_factory=dict)


def _hour(delta: datetime.timedelta) -> datetime.datetime:
    """Return now plus a delta, on the hour, in local time (so .replace(hour=14) means 14:00 in Beijing)."""
    return timezone.localtime(timezone.now() + delta).replace(minute=0, second=0, microsecond=0)


class EventDemo:
    """Build the demo events step by step (deterministic for a seed)."""

    def __init__(self, seed: int, log: Callable[[str], None]) -> None:
        self.rng = random.Random(seed)
        self.log = log
        self.federation = Organization.objects.get(code=FEDERATION_CODE)
        self.counts: dict[str, int] = {}
        self.mobiles: set[str] = set()

    # people --------------------------------------------------------------------------------------------------------
    def person(self) -> tuple[str, str]:
        name = self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))
        while True:
            mobile = f"{self.rng.choice(('139', '138', '136', '158', '186', '188'))}{self.rng.randrange(10**8):08d}"
            if mobile not in self.mobiles:
                self.mobiles.add(mobile)
                return name, mobile

    def companies(self, count: int) -> list[Enterprise]:
        ids = list(
            Membership.objects.filter(organization__path__startswith=self.federation.path)
            .order_by("enterprise_id")
            .values_list("enterprise_id", flat=True)[: count * 3]
        )
        return list(Enterprise.objects.filter(pk__in=ids[::3])[:count])

    def register_many(self, event: Event, count: int) -> list[Registration]:
        companies = self.companies(40)
        made = []
        for _number in range(count):
            name, mobile = self.person()
            company = self.rng.choice(companies).name if companies else ""
            result = services.register_person(
                actor=None,
                event=event,
                name=name,
                mobile=mobile,
                company=company,
                position=self.rng.choice(["总经理", "人力资源总监", "行政主管", "法务", "财务经理", "董事长助理"]),
            )
            made.append(result.registration)
        # Demo people are not texted: the ticket counts as sent before the transaction commits.
        Registration.objects.filter(pk__in=[r.pk for r in made]).update(ticket_sent_at=timezone.now())
        self.counts["registrations"] = self.counts.get("registrations", 0) + len(made)
        return made

    # events ----------------------------------------------------------------------------------------------------------
    def event(self, *, organization: Organization | None = None, publish: bool = True, **fields: Any) -> Event:
        event = services.create_event(
            actor=None, organization=organization or self.federation, publish=publish, **fields
        )
        self.counts["events"] = self.counts.get("events", 0) + 1
        return event

    def lecture_series(self) -> list[Event]:
        chamber = Organization.objects.filter(path__startswith=self.federation.path, name__contains="人力资源").first()
        organizer = chamber or self.federation
        series = services.create_series(
            actor=None,
            organization=organizer,
            name=SERIES_NAME,
            description="面向会员企业的人力资源公益讲座，线上线下同步。",
        )
        topics = [
            (11, "疫情期间企业劳动用工热点问题实务解答", -21, "online"),
            (12, "应届高校毕业生招聘与就业指导", -7, "hybrid"),
            (13, "灵活用工的法律风险与防范", 5, "hybrid"),
        ]
        made = []
        for number, topic, days, mode in topics:
            starts = _hour(datetime.timedelta(days=days)).replace(hour=14)
            event = self.event(
                organization=organizer,
                series=series,
                issue_number=number,
                title=f"{SERIES_NAME}：{topic}",
                kind="lecture",
                mode=mode,
                audience="public",
                capacity=300 if mode == "hybrid" else 20000,
                starts_at=starts,
                ends_at=starts + datetime.timedelta(hours=2),
                venue="市工商联大厦三楼报告厅" if mode == "hybrid" else "",
                address="北京市西城区" if mode == "hybrid" else "",
                livestream_url="https://meeting.tencent.com/dm/qiaoliang-demo",
                online_min_minutes=15,
                registration_opens_at=starts - datetime.timedelta(days=30),
                registration_closes_at=starts,
                description=f"第{number}期讲堂邀请资深劳动法律师和人力资源专家，围绕“{topic}”"
                "结合案例讲解并现场答疑。主会场限额，网络直播不限。",
                questions=[
                    {"key": "q1", "label": "想请专家解答的问题", "required": False, "choices": []},
                    {"key": "q2", "label": "参加方式", "required": True, "choices": ["现场", "线上"]},
                ],
                agenda=[
                    {
                        "title": "主讲",
                        "starts_at": starts,
                        "ends_at": starts + datetime.timedelta(minutes=90),
                        "speakers": [{"name": "周律师", "affiliation": "北京某律师事务所合伙人", "topic": topic}],
                    },
                    {
                        "title": "现场答疑",
                        "starts_at": starts + datetime.timedelta(minutes=90),
                        "ends_at": starts + datetime.timedelta(hours=2),
                    },
                ],
            )
            made.append(event)
        return made

    def past_issue(self, event: Event, *, registrations: int, checked_in: int, online_rows: int) -> None:
        """Fill a past issue: registrations typed in, check-ins ticked, the online export imported, a survey."""
        people = self.register_many(event, registrations)
        confirmed = [r for r in people if r.status == Registration.Status.CONFIRMED]
        if event.is_onsite and checked_in:
            ids = [r.pk for r in confirmed[:checked_in]]
            services.bulk_check_in(actor=None, event=event, registration_ids=ids)
            self.counts["checkins"] = self.counts.get("checkins", 0) + len(ids)
        upload = self.attendee_export(event, confirmed, online_rows)
        started = services.start_online_import(actor=None, event=event, upload=upload)
        services.apply_online_import(actor=None, online_import=started, mapping=started.mapping)
        for registration in confirmed[: max(3, len(confirmed) // 4)]:
            services.submit_feedback(
                actor=None,
                registration=registration,
                overall=self.rng.choice([5, 5, 4, 4, 3]),
                content=self.rng.choice([5, 4, 4, 3]),
                organisation=self.rng.choice([5, 5, 4]),
                comment=self.rng.choice(
                    ["", "", "讲得很实用，希望多举办。", "案例丰富，答疑环节很好。", "直播有时卡顿。"]
                ),
            )
        services.save_closing(
            actor=None,
            event=event,
            closing_summary="讲座围绕热点问题展开，线上线下同步进行，参会企业反响良好。",
            minutes="一、主讲人介绍了相关法律法规和典型案例。\n二、现场和线上答疑。\n三、下期讲堂主题征集中。",
        )
        services.transition_event(actor=None, event=event, to_status=Event.Status.CLOSED)

    def attendee_export(self, event: Event, registrations: list[Registration], extra: int) -> SimpleUploadedFile:
        """Write a 腾讯会议-style attendee export: registrants (some re-joining, some by nickname) and viewers."""
        lines = ["用户昵称,手机号,入会时间,退会时间,参会时长(分钟)"]
        start = timezone.localtime(event.starts_at)

        def row(name: str, mobile: str, offset: int, minutes: int) -> None:
            joined = start + datetime.timedelta(minutes=offset)
            left = joined + datetime.timedelta(minutes=minutes)
            lines.append(f"{name},{mobile},{joined:%Y-%m-%d %H:%M:%S},{left:%Y-%m-%d %H:%M:%S},{minutes}")

        for index, registration in enumerate(registrations[len(registrations) // 3 :]):
            if index % 4 == 0:  # a nickname with the company, no mobile: matched by name
                row(f"{registration.name}-{registration.company[:6]}", "", 2, 100)
            elif index % 4 == 1:  # dropped out and came back: one person, two rows
                row(registration.name, registration.mobile, 0, 40)
                row(registration.name, registration.mobile, 45, 70)
            else:
                row(registration.name, registration.mobile, self.rng.randrange(0, 20), self.rng.randrange(5, 115))
        for _number in range(extra):
            name, mobile = self.person()
            row(name, mobile if self.rng.random() < 0.6 else "", self.rng.randrange(0, 60), self.rng.randrange(3, 120))
        data = ("\n".join(lines) + "\n").encode("utf-8-sig")
        return SimpleUploadedFile(f"腾讯会议参会明细-{event.pk}.csv", data, content_type="text/csv")

    def hybrid_meeting(self) -> Event:
        starts = _hour(datetime.timedelta(days=10)).replace(hour=14)
        event = self.event(
            title="市工商联（总商会）执委（理事）会议暨市区工商联工作交流会",
            kind="meeting",
            mode="hybrid",
            audience="members",
            capacity=200,
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=3),
            venue="市工商联大厦一楼多功能厅（主会场）",
            address="北京市西城区",
            online_min_minutes=30,
            livestream_url="https://live.example.cn/qiaoliang/executive-meeting",
            description="采用“主会场+网络直播”形式举办，总结全年工作，部署新一年工作。各区工商联设分会场收看直播。",
            agenda=[
                {
                    "title": "全年工作报告",
                    "starts_at": starts,
                    "ends_at": starts + datetime.timedelta(hours=1),
                    "speakers": [{"name": "主席（会长）", "affiliation": "市工商联（总商会）"}],
                },
                {
                    "title": "各区工商联工作交流",
                    "starts_at": starts + datetime.timedelta(hours=1),
                    "ends_at": starts + datetime.timedelta(hours=3),
                },
            ],
        )
        self.register_many(event, 60)
        return event

    def exchange_meeting(self) -> Event:
        starts = _hour(datetime.timedelta(hours=-1))
        event = self.event(
            title="企业资源信息交流会",
            kind="exchange",
            mode="offline",
            audience="members",
            capacity=120,
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=6),
            venue="市工商联大厦二楼洽谈厅",
            address="北京市西城区",
            registration_opens_at=starts - datetime.timedelta(days=14),
            registration_closes_at=starts + datetime.timedelta(hours=1),
            description="参会企业依次介绍主要业务、重点项目、合作和人才供求等资源信息，随后按预约进行一对一洽谈。",
            pitches_start_at=starts,
            pitch_minutes=5,
            meetings_start_at=starts + datetime.timedelta(hours=2),
            slot_count=8,
            slot_minutes=20,
            table_count=10,
        )
        with_listings = list(
            Listing.objects.published()
            .order_by("enterprise_id")
            .values_list("enterprise_id", flat=True)
            .distinct()[:11]
        )
        enterprises = list(Enterprise.objects.filter(pk__in=with_listings)) or self.companies(11)
        contact = RoleAssignment.objects.filter(user__username="enterprise", role=Role.ENTERPRISE_CONTACT).first()
        if contact is not None and contact.enterprise_id and contact.enterprise_id not in {e.pk for e in enterprises}:
            enterprises.insert(0, Enterprise.objects.get(pk=contact.enterprise_id))
        participants = []
        for index, enterprise in enumerate(enterprises[:12]):
            unavailable = [slot for slot in range(8) if self.rng.random() < 0.1]
            participants.append(
                services.add_participant(
                    actor=None,
                    event=event,
                    enterprise=enterprise,
                    unavailable_slots=unavailable,
                    pitch_title=f"{enterprise.short_name or enterprise.name[:8]}：主要业务与合作需求"
                    if index < 9
                    else "",
                )
            )
        services.number_pitches(actor=None, event=event)
        pairs = set()
        reasons = [
            "贵司的需求与我方产品高度契合，希望面谈合作方式。",
            "希望了解贵司的技术服务并洽谈采购。",
            "我方有闲置产能，可承接贵司订单。",
            "希望在人才招聘和培训方面合作。",
            "探讨联合申报项目的可能。",
        ]
        for requester in participants:
            for recipient in self.rng.sample(participants, k=min(4, len(participants))):
                key = tuple(sorted((requester.pk, recipient.pk)))
                if requester.pk == recipient.pk or key in pairs:
                    continue
                pairs.add(key)
                request = services.request_meeting(
                    actor=None, requester=requester, recipient=recipient, reason=self.rng.choice(reasons)
                )
                if self.rng.random() < 0.8:
                    services.answer_request(actor=None, request=request, accept=True, note="欢迎，现场见。")
                elif self.rng.random() < 0.5:
                    services.answer_request(actor=None, request=request, accept=False, note="时间冲突，会后联系。")
        self.counts["meeting_requests"] = len(pairs)
        first = Meeting.objects.filter(event=event).select_related("a", "b").order_by("id").first()
        if first is not None:  # one meeting pinned by hand, in the first slot both sides can make
            busy = set(first.a.unavailable_slots or []) | set(first.b.unavailable_slots or [])
            free = [slot for slot in range(event.slot_count) if slot not in busy]
            if free:
                services.place_meeting(actor=None, meeting=first, slot=free[0], table=0)
        services.schedule_event(actor=None, event=event, time_limit=2.0)
        for meeting in Meeting.objects.filter(event=event, slot__in=[0, 1]).select_related("a", "b")[:6]:
            result = self.rng.choice(["intent", "deal", "none"])
            amount = Decimal(self.rng.choice([50_000, 200_000, 1_200_000])) if result == "deal" else None
            services.record_outcome(
                actor=None,
                meeting=meeting,
                participant=meeting.a,
                held=True,
                result=result,
                deal_amount=amount,
                note="已交换联系方式。",
            )
        return event

    def zone_meeting(self) -> Event | None:
        zone = Zone.objects.filter(federation=self.federation).order_by("code").first()
        if zone is None:
            return None
        starts = _hour(datetime.timedelta(days=-3)).replace(hour=9)
        event = self.event(
            title=f"{zone.name}碰头会",
            kind="meeting",
            mode="offline",
            audience="organizations",
            zone=zone,
            audience_organizations=list(zone.organizations.all()[:20]),
            capacity=40,
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=2),
            venue="片区总召集人单位会议室",
            description="片区各商协会交流工作进展，商议片区联合活动。",
        )
        self.register_many(event, 18)
        services.save_closing(
            actor=None,
            event=event,
            minutes=(
                "一、总召集人通报片区工作进展。\n二、各商协会交流上半年工作和下一步计划。\n"
                "三、商定下季度联合举办企业资源信息交流会，由秘书处群组牵头筹备。"
            ),
            closing_summary="片区首次碰头会。",
        )
        services.transition_event(actor=None, event=event, to_status=Event.Status.CLOSED)
        return event

    def symposium(self) -> Event:
        starts = _hour(datetime.timedelta(days=14)).replace(hour=9)
        event = self.event(
            title="民营企业发展座谈会",
            kind="symposium",
            mode="offline",
            audience="members",
            capacity=30,
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=3),
            venue="市工商联大厦五楼会议室",
            description="听取民营企业对营商环境的意见建议，直联部门现场回应诉求。",
        )
        item = services.add_agenda_item(
            actor=None,
            event=event,
            title="直联部门解读惠企政策并回应诉求",
            starts_at=starts + datetime.timedelta(hours=1),
            ends_at=starts + datetime.timedelta(hours=2),
        )
        liaison = User.objects.filter(username="liaison").first()
        services.add_speaker(
            actor=None,
            event=event,
            agenda_item=item,
            name=str(liaison) if liaison else "联络员",
            affiliation="直联部门",
            topic="惠企政策解读",
            user=liaison,
        )
        self.register_many(event, 12)
        return event

    def party_building(self) -> Event:
        starts = _hour(datetime.timedelta(days=20)).replace(hour=14)
        return self.event(
            title="“不忘初心”主题党日活动",
            kind="party_building",
            mode="online",
            audience="members",
            capacity=500,
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=2),
            online_min_minutes=20,
            livestream_url="https://meeting.tencent.com/dm/qiaoliang-party",
        )

    def build(self) -> dict[str, int]:
        lectures = self.lecture_series()
        self.log("lecture series")
        self.past_issue(lectures[0], registrations=120, checked_in=0, online_rows=220)
        self.past_issue(lectures[1], registrations=90, checked_in=48, online_rows=60)
        self.register_many(lectures[2], 40)
        enterprise_user = User.objects.filter(username="enterprise").first()
        if enterprise_user is not None and enterprise_user.person_id:
            person = Person.objects.filter(pk=enterprise_user.person_id).first()
            if person is not None and person.mobile:
                services.register_person(
                    actor=None,
                    event=lectures[2],
                    name=person.name,
                    mobile=person.mobile,
                    company=person.enterprise.name if person.enterprise else "",
                    enterprise=person.enterprise,
                )
        self.log("past issues")
        self.hybrid_meeting()
        self.exchange_meeting()
        self.log("exchange meeting")
        self.zone_meeting()
        self.symposium()
        self.party_building()
        return self.counts


def exists() -> bool:
    """Tell whether the demo events were made already."""
    federation = Organization.objects.filter(code=FEDERATION_CODE).first()
    return (
        federation is not None
        and EventSeries.objects.filter(organization__path__startswith=federation.path, name=SERIES_NAME).exists()
    )


def seed(*, seed: int = 2026, log: Callable[[str], None] = lambda message: None) -> SeedResult:
    """Create the demo events unless they exist (needs `seed_demo` first)."""
    if not Organization.objects.filter(code=FEDERATION_CODE).exists():
        return SeedResult(created=False, message=_("no demo federation: run `manage.py seed_demo` first"))
    if exists():
        return SeedResult(created=False, message=_("the demo events exist already"))
    with transaction.atomic():
        counts = EventDemo(seed, log).build()
    return SeedResult(created=True, counts=counts)
