"""Log in and out, sign up, change or reset the password (by e-mail link or SMS code), set up TOTP."""

from __future__ import annotations

from base64 import b32encode

import segno
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from qiaoliang.accounts import services
from qiaoliang.accounts.forms import (
    LoginForm,
    OTPConfirmForm,
    PasswordChangeForm,
    PasswordResetCodeForm,
    PasswordResetRequestForm,
    SignupForm,
)
from qiaoliang.core import audit, verification
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.forms import add_domain_error, call_service


def login_view(request: HttpRequest) -> HttpResponse:
    """Show the login form and sign the user in."""
    form = LoginForm(request, data=request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and form.is_valid():
        login(request, form.user)
        if form.otp_device is not None:
            otp_login(request, form.otp_device)
        audit.record("accounts.user.logged_in", actor=form.user, target=form.user)
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
            next_url = ""
        return redirect(next_url or "core:home")
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign the user out."""
    logout(request)
    return redirect("accounts:login")


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Let a user add an authenticator app: show the QR code, confirm with a first code."""
    confirmed = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if confirmed is not None:
        if request.method == "POST" and request.POST.get("action") == "remove":
            with transaction.atomic():
                TOTPDevice.objects.filter(user=request.user).delete()
                audit.record("accounts.otp.removed", target=request.user)  # type: ignore[arg-type]
            messages.success(request, _("The authenticator app was removed."))
            return redirect("accounts:otp_setup")
        return render(request, "accounts/otp_setup.html", {"confirmed": True})
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "default"}
    )
    form = OTPConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                audit.record("accounts.otp.confirmed", target=request.user)  # type: ignore[arg-type]
            otp_login(request, device)
            messages.success(request, _("Two-step login is on: you will be asked for a code at each login."))
            return redirect("core:home")
        form.add_error("token", _("The one-time code is wrong or has expired."))
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    secret = b32encode(device.bin_key).decode()
    return render(request, "accounts/otp_setup.html", {"form": form, "qr_svg": qr_svg, "secret": secret})


def locked_out(request: HttpRequest, credentials: object = None, *args: object, **kwargs: object) -> HttpResponse:
    """Tell a locked-out user to wait."""
    return render(request, "accounts/locked_out.html", status=429)


def signup(request: HttpRequest) -> HttpResponse:
    """Create an account with a verified mobile number; the new user applies for membership next."""
    if request.user.is_authenticated:
        return redirect("core:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            mobile = services.clean_mobile(data["mobile"])
            verification.check_code(purpose="signup", target=mobile, code=data["code"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            user = call_service(form, lambda: services.register_account(
                mobile=mobile, password=data["password"], display_name=data["display_name"], email=data["email"]
            ))  # fmt: skip
            if user is not None:
                login(request, user, backend="qiaoliang.accounts.backends.UsernameOrMobileBackend")
                messages.success(
                    request, _("Your account is ready. Apply for membership of your chamber or association.")
                )
                return redirect("orgs:apply")
    return render(request, "accounts/signup.html", {"form": form})


@require_POST
def send_code(request: HttpRequest) -> HttpResponse:
    """Send a verification code to a mobile number (sign-up, password reset); rate-limited per number."""
    purpose = request.POST.get("purpose", "")
    if purpose not in {"signup", "password_reset", "application"}:
        return JsonResponse({"detail": _("Unknown purpose.")}, status=400)
    try:
        mobile = services.clean_mobile(request.POST.get("mobile", ""))
        if purpose == "password_reset" and services.account_for_mobile(mobile) is None:
            # Say the same as when a code was sent, so the form does not tell who has an account.
            return JsonResponse({"detail": _("If the number belongs to an account, a code is on its way.")})
        verification.send_code(purpose=purpose, target=mobile)
    except DomainError as exc:
        return JsonResponse({"detail": exc.message, "code": exc.code}, status=400)
    if purpose == "password_reset":
        return JsonResponse({"detail": _("If the number belongs to an account, a code is on its way.")})
    return JsonResponse({"detail": _("The code is on its way; it is valid for 10 minutes.")})


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Change the signed-in user's password (the session stays signed in)."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = call_service(form, lambda: services.change_password(
            user=request.user, old_password=data["old_password"], new_password=data["new_password"]) or True,
            {"password": "new_password"})  # fmt: skip
        if done:
            update_session_auth_hash(request, request.user)  # type: ignore[arg-type]
            messages.success(request, _("Your password was changed."))
            return redirect("core:home")
    return render(request, "accounts/password_change.html", {"form": form})


def password_reset(request: HttpRequest) -> HttpResponse:
    """Start a reset: a link by e-mail, or a code by text message to the account's mobile number."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login_value = form.cleaned_data["login"].strip()
        if "@" in login_value:
            reset = PasswordResetForm({"email": login_value})
            if reset.is_valid():
                reset.save(request=request, use_https=request.is_secure(),
                           email_template_name="accounts/password_reset_email.txt",
                           subject_template_name="accounts/password_reset_subject.txt")  # fmt: skip
            messages.info(
                request, _("If the address belongs to an account, a link to set a new password is on its way.")
            )
            return redirect("accounts:login")
        try:
            mobile = services.clean_mobile(login_value)
            if services.account_for_mobile(mobile) is not None:
                verification.send_code(purpose="password_reset", target=mobile)
        except DomainError as exc:
            add_domain_error(form, exc, {"mobile": "login", "too_soon": "login", "too_many": "login"})
        else:
            messages.info(request, _("If the number belongs to an account, a code is on its way."))
            return redirect(f"{reverse('accounts:password_reset_code')}?mobile={mobile}")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_code(request: HttpRequest) -> HttpResponse:
    """Finish a reset with the code sent to the mobile number."""
    form = PasswordResetCodeForm(request.POST or None, initial={"mobile": request.GET.get("mobile", "")[:20]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            mobile = services.clean_mobile(data["mobile"])
            verification.check_code(purpose="password_reset", target=mobile, code=data["code"])
            user = services.account_for_mobile(mobile)
            if user is None:
                raise DomainError(_("The code is wrong."), code="code")
            services.reset_password(user=user, new_password=data["new_password"], channel="sms")
        except DomainError as exc:
            add_domain_error(form, exc, {"password": "new_password"})
        else:
            messages.success(request, _("Your password was set. Log in with it."))
            return redirect("accounts:login")
    return render(request, "accounts/password_reset_code.html", {"form": form})
