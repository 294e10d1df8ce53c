"""Log in and out, set up TOTP for staff."""

from __future__ import annotations

from base64 import b32encode

import segno
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from qiaoliang.accounts.forms import LoginForm, OTPConfirmForm
from qiaoliang.core import audit


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
