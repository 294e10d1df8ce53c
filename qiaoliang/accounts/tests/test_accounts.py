"""Accounts: sign-up with a verified mobile, password change, reset by SMS code or e-mail link."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from qiaoliang.accounts.models import User
from qiaoliang.core import channels
from qiaoliang.core.models import AuditLog

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-much-longer-secret-42"


@pytest.fixture(autouse=True)
def _sent_after_commit(monkeypatch):
    """Codes are sent after their transaction commits; in a test's transaction, send them at once."""
    monkeypatch.setattr("qiaoliang.core.verification.transaction.on_commit", lambda callback: callback())


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    settings.SMS_BACKEND = "locmem"
    channels.outbox.clear()
    yield
    channels.outbox.clear()


def _last_code(mobile: str) -> str:
    texts = [message.text for message in channels.outbox if message.to == mobile]
    return re.search(r"(\d{6})", texts[-1]).group(1)  # type: ignore[union-attr]


def test_a_new_enterprise_signs_up_with_a_verified_mobile_and_goes_to_the_application(client, db):
    assert client.post(reverse("accounts:send_code"), {"purpose": "signup", "mobile": "13612345678"}).status_code == 200
    data = {"display_name": "李经理", "mobile": "13612345678", "code": _last_code("13612345678"),
            "email": "li@example.cn", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}  # fmt: skip
    response = client.post(reverse("accounts:signup"), data)
    assert response.status_code == 302 and response["Location"] == reverse("orgs:apply")
    user = User.objects.get(mobile="13612345678")
    assert (user.username, user.display_name, user.roles.count()) == ("13612345678", "李经理", 0)
    assert AuditLog.objects.filter(action="accounts.user.registered", actor=user).exists()


def test_a_wrong_code_is_refused_and_counted(client, db):
    client.post(reverse("accounts:send_code"), {"purpose": "signup", "mobile": "13612345678"})
    data = {"display_name": "李经理", "mobile": "13612345678", "code": "000000", "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD}  # fmt: skip
    if _last_code("13612345678") == "000000":
        data["code"] = "111111"
    client.cookies["django_language"] = "en"
    response = client.post(reverse("accounts:signup"), data)
    assert response.context["form"].errors["code"] == ["The code is wrong."]
    assert not User.objects.filter(mobile="13612345678").exists()


def test_codes_are_rate_limited_per_number(client, db):
    client.cookies["django_language"] = "en"
    assert client.post(reverse("accounts:send_code"), {"purpose": "signup", "mobile": "13612345678"}).status_code == 200
    again = client.post(reverse("accounts:send_code"), {"purpose": "signup", "mobile": "13612345678"})
    assert again.status_code == 400 and "less than a minute" in again.json()["detail"]
    assert len(channels.outbox) == 1


def test_a_user_changes_their_password(client, world):
    client.force_login(world.contact)
    response = client.post(reverse("accounts:password_change"), {
        "old_password": "correct-horse-battery", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD,
    })  # fmt: skip
    assert response.status_code == 302
    world.contact.refresh_from_db()
    assert world.contact.check_password(NEW_PASSWORD)
    assert client.get(reverse("core:home")).status_code == 200  # still signed in


def test_a_wrong_current_password_is_refused(client, world):
    client.cookies["django_language"] = "en"
    client.force_login(world.contact)
    response = client.post(reverse("accounts:password_change"), {
        "old_password": "nope", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD,
    })  # fmt: skip
    assert response.context["form"].errors["old_password"] == ["The current password is wrong."]


def test_a_password_is_reset_with_a_code_sent_to_the_mobile(client, world):
    response = client.post(reverse("accounts:password_reset"), {"login": "13700000002"})
    assert response.status_code == 302
    data = {"mobile": "13700000002", "code": _last_code("13700000002"), "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD}  # fmt: skip
    assert client.post(reverse("accounts:password_reset_code"), data).status_code == 302
    world.secretary.refresh_from_db()
    assert world.secretary.check_password(NEW_PASSWORD)
    # The code is used up.
    assert client.post(reverse("accounts:password_reset_code"), data).status_code == 200


def test_an_unknown_number_gets_the_same_answer_and_no_text(client, world):
    response = client.post(reverse("accounts:password_reset"), {"login": "13611112222"})
    assert response.status_code == 302
    assert channels.outbox == []


def test_a_password_is_reset_by_e_mail_link(client, world):
    world.secretary.email = "sec@example.cn"
    world.secretary.save(update_fields=["email"])
    client.post(reverse("accounts:password_reset"), {"login": "sec@example.cn"})
    link = re.search(r"(/accounts/password/reset/[^/]+/[^/\s]+/)", mail.outbox[0].body).group(1)  # type: ignore[union-attr]
    page = client.get(link, follow=True)
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    world.secretary.refresh_from_db()
    assert world.secretary.check_password(NEW_PASSWORD)
