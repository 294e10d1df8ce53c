"""Give the demo roles work to do: an application waiting for the secretary, a profile change waiting for review,
and a second enterprise contact ("buyer") for the exchange's demo conversation. Idempotent."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from qiaoliang.accounts.models import Role, RoleAssignment, User
from qiaoliang.orgs import demo, services
from qiaoliang.orgs.models import Membership, MembershipApplication, Organization

APPLICANT_MOBILE = f"{demo.ACCOUNT_MOBILE_PREFIX}0008"
BUYER_MOBILE = f"{demo.ACCOUNT_MOBILE_PREFIX}0009"


def licence_scan() -> bytes:
    """Return a small, real PNG (a grey square) standing for a scanned business licence."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    width = height = 16
    rows = b"".join(b"\x00" + b"\xc8" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class Command(BaseCommand):
    help = "Add demo activity for the roles: a membership application, a profile change to review, a second contact."

    def handle(self, *args: Any, **options: Any) -> None:
        chamber = Organization.objects.filter(code=f"{demo.FEDERATION_CODE}-C01").first()
        enterprise_user = User.objects.filter(username="enterprise").first()
        if chamber is None or enterprise_user is None:
            raise CommandError(_("Run seed_demo first."))
        password = make_password(demo.DEMO_PASSWORD)
        with transaction.atomic():
            applicant, created = User.objects.get_or_create(
                username="applicant", defaults={"display_name": "周经理", "mobile": APPLICANT_MOBILE,
                                                "password": password},
            )  # fmt: skip
            if created or not MembershipApplication.objects.filter(applicant=applicant).exists():
                services.submit_application(
                    actor=applicant,
                    organization=chamber,
                    uscc=demo.build_uscc("110105", 990_001),
                    name="北京锦程食品科技有限公司",
                    licence=SimpleUploadedFile("营业执照.png", licence_scan(), content_type="image/png"),
                    size="small",
                    ownership="private",
                    address="北京市朝阳区望京街10号",
                    main_business="速冻食品研发与销售",
                    contact_name="周经理",
                    contact_mobile=APPLICANT_MOBILE,
                    contact_job_title="总经理",
                    statement="希望通过商会对接餐饮企业的采购需求。",
                )
            own = RoleAssignment.objects.filter(user=enterprise_user, role=Role.ENTERPRISE_CONTACT).first()
            if own is not None and own.enterprise is not None:
                enterprise = own.enterprise
                services.change_profile(actor=enterprise_user, enterprise=enterprise,
                                        main_business="中式正餐、团餐配送", size="medium")  # fmt: skip
                other = (
                    Membership.objects.filter(organization=chamber, status=Membership.Status.ACTIVE)
                    .exclude(enterprise=enterprise)
                    .order_by("enterprise_id")
                    .first()
                )
                if other is not None and not User.objects.filter(username="buyer").exists():
                    buyer = User.objects.create(username="buyer", display_name="采购经理", mobile=BUYER_MOBILE,
                                                password=password)  # fmt: skip
                    RoleAssignment.objects.create(user=buyer, role=Role.ENTERPRISE_CONTACT,
                                                  enterprise_id=other.enterprise_id)  # fmt: skip
        done = _("Demo activity is in place (accounts applicant and buyer, password %(pw)s).")
        self.stdout.write(self.style.SUCCESS(done % {"pw": demo.DEMO_PASSWORD}))
