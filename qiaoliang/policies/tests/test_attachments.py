"""A policy's attachments and interpretation lectures: its editors add and remove them (files checked for type, size
and content); whoever reads the policy sees them."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from qiaoliang.core.models import AuditLog
from qiaoliang.events.services import events as event_services
from qiaoliang.policies.models import PolicyAttachment
from qiaoliang.policies.services import library
from qiaoliang.policies.tests.test_workflow import make_policy

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def client_for(user: Any | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_editors_attach_and_readers_download(world: Any, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    policy, _item = make_policy(world, publish=False)
    attach = reverse("policies:act", args=[policy.pk, "attach"])
    staff = client_for(world.staff)
    response = staff.post(attach, {"file": SimpleUploadedFile("申报指南.pdf", PDF)}, follow=True)
    assert response.status_code == 200
    row = PolicyAttachment.objects.get(policy=policy)
    assert row.name == "申报指南.pdf" and row.size == len(PDF)
    assert 'data-testid="attachments"' in response.content.decode() and "申报指南.pdf" in response.content.decode()
    url = reverse("policies:attachment", args=[row.pk])
    assert client_for(None).get(url).status_code == 404  # a draft's files are not public
    assert staff.get(url).status_code == 200
    library.publish(actor=world.staff, policy=policy)
    download = client_for(None).get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF  # type: ignore[attr-defined]
    assert download["Content-Type"] == "application/pdf"
    # a disguised or unknown file is refused with the reason; nothing is stored
    for name, content in (("a.pdf", b"<html><script>alert(1)</script></html>"), ("a.exe", b"MZ")):
        response = staff.post(attach, {"file": SimpleUploadedFile(name, content)}, follow=True)
        assert "alert-danger" in response.content.decode() or "alert-warning" in response.content.decode()
    assert PolicyAttachment.objects.count() == 1
    # only the policy's editors attach or remove
    for user in (world.contact, world.liaison, world.provider):
        assert client_for(user).post(attach, {"file": SimpleUploadedFile("b.pdf", PDF)}).status_code == 403
        detach = client_for(user).post(reverse("policies:act", args=[policy.pk, "detach"]), {"attachment": row.pk})
        assert detach.status_code == 403
    staff.post(reverse("policies:act", args=[policy.pk, "detach"]), {"attachment": row.pk})
    assert not PolicyAttachment.objects.exists()
    assert AuditLog.objects.filter(action__startswith="policies.attachment.").count() == 2


def test_at_most_ten_attachments(world: Any, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    policy, _item = make_policy(world, publish=False)
    for number in range(library.MAX_ATTACHMENTS):
        library.add_attachment(actor=world.staff, policy=policy, upload=SimpleUploadedFile(f"{number}.pdf", PDF))
    response = client_for(world.staff).post(reverse("policies:act", args=[policy.pk, "attach"]),
                                            {"file": SimpleUploadedFile("11.pdf", PDF)}, follow=True)  # fmt: skip
    assert "10" in response.content.decode()
    assert PolicyAttachment.objects.count() == library.MAX_ATTACHMENTS


def test_editors_link_interpretation_lectures(world: Any) -> None:
    soon = (timezone.now() + datetime.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    lecture = event_services.create_event(
        actor=world.staff, organization=world.federation, title="高新技术企业政策解读会", kind="lecture",
        mode="hybrid", audience="public", capacity=80, starts_at=soon, ends_at=soon + datetime.timedelta(hours=2),
        publish=True,
    )  # fmt: skip
    internal = event_services.create_event(
        actor=world.staff, organization=world.federation, title="内部座谈：政策落实情况", kind="symposium",
        mode="offline", audience="members", capacity=20, starts_at=soon, ends_at=soon + datetime.timedelta(hours=1),
        publish=True,
    )  # fmt: skip
    policy, _item = make_policy(world)
    page = client_for(world.staff).get(reverse("policies:detail", args=[policy.pk]))
    assert 'data-testid="events-form"' in page.content.decode() and "高新技术企业政策解读会" in page.content.decode()
    url = reverse("policies:act", args=[policy.pk, "events"])
    client_for(world.staff).post(url, {"events": [str(lecture.pk), "999999", "x"]})
    assert list(policy.events.all()) == [lecture]  # unknown ids are ignored, never linked
    public = client_for(None).get(reverse("policies:detail", args=[policy.pk])).content.decode()
    assert "高新技术企业政策解读会" in public and 'data-testid="events-form"' not in public
    client_for(world.staff).post(url, {"events": [str(lecture.pk), str(internal.pk)]})
    assert set(policy.events.all()) == {lecture, internal}
    public = client_for(None).get(reverse("policies:detail", args=[policy.pk])).content.decode()
    assert "内部座谈" not in public and "高新技术企业政策解读会" in public  # visitors see public events only
    assert "内部座谈" in client_for(world.staff).get(reverse("policies:detail", args=[policy.pk])).content.decode()
    assert client_for(world.contact).post(url, {"events": []}).status_code == 403
    client_for(world.staff).post(url, {})
    assert not policy.events.exists()
