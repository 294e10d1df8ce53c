"""Login form: username or mobile, password, and a TOTP code for accounts that have one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user, match_token


class LoginForm(forms.Form):
    """Check the credentials and, for users with a confirmed TOTP device, the one-time code."""

    username = forms.CharField(label=_("Username or mobile number"), max_length=150)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    otp_token = forms.CharField(
        label=_("One-time code"),
        required=False,
        max_length=8,
        help_text=_("Only if you have set up an authenticator app."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user: Any = None
        self.otp_device: Any = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        username, password = data.get("username"), data.get("password")
        if not username or not password:
            return data
        user = authenticate(self.request, username=username, password=password)
        if user is None:
            raise forms.ValidationError(_("The username or mobile number and password do not match."), code="invalid")
        devices = list(devices_for_user(user, confirmed=True))
        if devices:
            token = (data.get("otp_token") or "").strip()
            if not token:
                raise forms.ValidationError(
                    _("Enter the one-time code from your authenticator app."), code="otp_required"
                )
            device = match_token(user, token)
            if device is None:
                raise forms.ValidationError(_("The one-time code is wrong or has expired."), code="otp_invalid")
            self.otp_device = device
        self.user = user
        return data


class OTPConfirmForm(forms.Form):
    token = forms.CharField(label=_("One-time code"), max_length=8)
