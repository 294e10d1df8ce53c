"""Give the demo exchange some life: the demo enterprise's offer in talks with the "buyer" enterprise (messages and
a deal proposal for the enterprise to confirm) and a listing waiting for the secretary's review. Idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.accounts.models import Role, RoleAssignment, User
from qiaoliang.exchange import services
from qiaoliang.exchange.models import Listing, Match


def _contact(username: str) -> tuple[User, Any]:
    user = User.objects.filter(username=username).first()
    assignment = RoleAssignment.objects.filter(user=user, role=Role.ENTERPRISE_CONTACT).select_related("enterprise")
    first = assignment.first()
    if user is None or first is None:
        raise CommandError(_("Run seed_demo and seed_activity first."))
    return user, first.enterprise


class Command(BaseCommand):
    help = "Add a demo conversation with a deal to confirm and a listing waiting for review."

    def handle(self, *args: Any, **options: Any) -> None:
        seller, seller_enterprise = _contact("enterprise")
        if not User.objects.filter(username="buyer").exists() and User.objects.filter(username="applicant").exists():
            # seed_activity makes the buyer from a second member of the demo chamber; a demo of one enterprise has none.
            self.stdout.write(_("No second enterprise in the demo chamber: the demo conversation is left out."))
            return
        buyer, buyer_enterprise = _contact("buyer")
        staff = User.objects.get(username="staff")
        if Listing.objects.filter(enterprise=seller_enterprise, external_id="DEMO-OFFER").exists():
            self.stdout.write(_("The demo exchange activity exists already."))
            return
        valid_until = timezone.localdate() + datetime.timedelta(days=90)
        with transaction.atomic():
            offer = services.create_listing(
                actor=staff, enterprise=seller_enterprise, direction="offer", category="service",
                external_id="DEMO-OFFER",
                title="承接企业团餐配送（日供500份）", valid_until=valid_until, publish=True,
                description="中央厨房现做现送，朝阳区、东城区当日送达，可按周结算，持食品经营许可证。",
                service_area="北京市朝阳区、东城区", price_text="25元/份起",
            )  # fmt: skip
            need = services.create_listing(
                actor=staff, enterprise=buyer_enterprise, direction="need", category="service", external_id="DEMO-NEED",
                title="求购员工工作餐配送服务，每日约300份", valid_until=valid_until, publish=True,
                description="朝阳区办公园区，工作日午餐，要求营养搭配、准时送达。", price_text="面议",
            )  # fmt: skip
            match, _created = Match.objects.get_or_create(need=need, offer=offer, defaults={"score": 0.8})
            services.agree_to_talk(actor=buyer, match=match)
            services.post_message(actor=buyer, match=match, body="您好，我们园区每天约300份午餐，能否先试送一周？")
            services.agree_to_talk(actor=seller, match=match)
            services.post_message(actor=seller, match=match, body="可以，下周一开始试送，每份25元，按周结算。")
            services.propose_deal(actor=buyer, match=match, amount=Decimal("390000"), date=timezone.localdate())
            services.create_listing(
                actor=seller, enterprise=seller_enterprise, direction="need", category="material", submit=True,
                title="求购不锈钢保温餐箱200个", valid_until=valid_until, external_id="DEMO-PENDING",
                description="团餐配送用，304不锈钢，带保温层。", quantity=Decimal(200), unit="个",
            )  # fmt: skip
        done = _("Demo exchange activity added: a deal to confirm, a listing to review.")
        self.stdout.write(self.style.SUCCESS(done))
