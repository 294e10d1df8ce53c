"""The lockout counts failures per account, whatever the spelling: `Lock6`, `lock6` and the account's mobile
number are one account, so changing the case or switching to the mobile number gives no extra guesses."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from qiaoliang.accounts.models import User


def canonical_username(request: Any, credentials: dict[str, Any] | None) -> str:
    """Return the key the lockout counts under: the account's id when the login names one, else the lowered text."""
    login = ""
    if credentials:
        login = str(credentials.get("username") or "")
    elif request is not None and hasattr(request, "POST"):
        login = str(request.POST.get("username") or "")
    login = login.strip()[:150]
    if not login:
        return ""
    account = User.objects.filter(Q(username__iexact=login) | Q(mobile=login)).order_by("id").values("pk").first()
    if account is not None:
        return f"account:{account['pk']}"
    return login.lower()
