"""Logging in: username or mobile, lockout, TOTP, idle timeout, safe redirects, audit."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from qiaoliang.core.models import AuditLog

LOGIN = "/accounts/login/"
PASSWORD = "correct-horse-battery"


def post_login(client, username, password=PASSWORD, ip="10.0.0.1", **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra}, REMOTE_ADDR=ip)


def test_user_logs_in_with_username_and_lands_on_dashboard(client, world):
    response = post_login(client, "secretary")
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert client.get(reverse("core:home")).status_code == 200


def test_user_logs_in_with_mobile_number(client, world):
    response = post_login(client, "13700000002")
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == world.secretary.pk


def test_wrong_password_shows_chinese_error_and_does_not_log_in(client, world):
    response = post_login(client, "secretary", "wrong-password")
    assert response.status_code == 200
    assert "用户名或手机号与密码不匹配" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_wrong_password_error_in_english_when_english_is_chosen(client, world):
    client.cookies["django_language"] = "en"
    response = post_login(client, "secretary", "wrong-password")
    assert "The username or mobile number and password do not match." in response.content.decode()


def test_five_failures_lock_the_username_from_that_ip_even_with_the_right_password(client, world):
    for _ in range(5):
        post_login(client, "secretary", "wrong-password")
    response = post_login(client, "secretary")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another address is not locked out for the same username.
    other = post_login(client, "secretary", ip="10.0.0.2")
    assert other.status_code == 302


def test_lockout_is_temporary(client, world):
    start = datetime.datetime(2026, 11, 22, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            post_login(client, "secretary", "wrong-password")
        assert post_login(client, "secretary").status_code == 429
    with time_machine.travel(start + datetime.timedelta(minutes=16), tick=False):
        assert post_login(client, "secretary").status_code == 302


def test_unknown_username_gets_the_same_error_as_a_wrong_password(client, world):
    response = post_login(client, "nobody-here")
    assert response.status_code == 200
    assert "用户名或手机号与密码不匹配" in response.content.decode()


def test_staff_with_totp_must_give_a_valid_code(client, world, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the throttle after a wrong code is django-otp's, tested there
    device = TOTPDevice.objects.create(user=world.staff, name="phone", confirmed=True)
    missing = post_login(client, "staff")
    assert missing.status_code == 200
    assert "请输入身份验证器应用显示的一次性验证码" in missing.content.decode()
    wrong = post_login(client, "staff", otp_token="000000" if totp(device.bin_key) != 0 else "111111")
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    ok = post_login(client, "staff", otp_token=code)
    assert ok.status_code == 302
    assert client.session.get("otp_device_id")


def test_totp_setup_confirms_device_with_first_code(client, world):
    client.force_login(world.staff)
    page = client.get(reverse("accounts:otp_setup"))
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=world.staff)
    assert device.confirmed is False
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    response = client.post(reverse("accounts:otp_setup"), {"token": code})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    assert AuditLog.objects.filter(action="accounts.otp.confirmed", actor=world.staff).count() == 1


def test_session_expires_after_thirty_idle_minutes(client, world):
    start = datetime.datetime(2026, 11, 22, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        assert post_login(client, "secretary").status_code == 302
    with time_machine.travel(start + datetime.timedelta(minutes=20), tick=False):
        assert client.get(reverse("core:home")).status_code == 200  # activity renews the session
    with time_machine.travel(start + datetime.timedelta(minutes=45), tick=False):
        assert client.get(reverse("core:home")).status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=80), tick=False):
        response = client.get(reverse("core:home"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_a_session_is_written_at_most_once_a_minute_not_on_every_request(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def session_writes() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("core:home")).status_code == 200
        return sum(1 for q in queries.captured_queries if q["sql"].startswith('UPDATE "django_session"'))

    start = datetime.datetime(2026, 11, 22, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        assert post_login(client, "secretary").status_code == 302
        assert session_writes() == 0  # signing in stamped the new session
    with time_machine.travel(start + datetime.timedelta(seconds=30), tick=False):
        assert session_writes() == 0
    with time_machine.travel(start + datetime.timedelta(seconds=90), tick=False):
        assert session_writes() == 1  # renewed: the idle timeout counts from here
        assert session_writes() == 0


def test_login_ignores_next_urls_on_other_hosts(client, world):
    response = post_login(client, "secretary", next="https://evil.example.com/")
    assert response["Location"] == reverse("core:home")


def test_successful_login_is_audited(client, world):
    post_login(client, "secretary")
    entry = AuditLog.objects.get(action="accounts.user.logged_in")
    assert entry.actor == world.secretary
    assert entry.ip_address == "10.0.0.1"
    assert entry.request_id


@pytest.mark.parametrize("password", ["12345678901", "password123", "short"])
def test_weak_passwords_are_refused_by_validators(world, password):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password(password, user=world.secretary)


def test_logout_requires_post(client, world):
    client.force_login(world.secretary)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_pages_are_chinese_even_for_an_english_browser_until_english_is_chosen(client, world):
    page = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="zh-hans">' in page.content.decode()
    client.cookies["django_language"] = "en"
    assert '<html lang="en">' in client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()


@pytest.mark.parametrize("spelling", ["SECRETARY", "Secretary", "sEcReTaRy", "13700000002"])
def test_the_lockout_counts_the_account_whatever_the_spelling_or_the_mobile(client, world, spelling):
    for _ in range(5):
        post_login(client, "secretary", "wrong-password")
    response = post_login(client, spelling)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failures_spread_over_spellings_add_up(client, world):
    for spelling in ["Secretary", "SECRETARY", "secretary", "13700000002", "secRetary"]:
        post_login(client, spelling, "wrong-password")
    assert post_login(client, "secretary").status_code == 429
