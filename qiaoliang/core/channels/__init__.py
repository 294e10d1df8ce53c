"""Delivery channels for notifications and one-time codes: e-mail (Django's mail), SMS and WeCom group robots.

SMS and WeCom go through a backend named in the settings (`SMS_BACKEND`, `WECOM_BACKEND`): `console` writes
the message to the log (the demo), `locmem` keeps it in `outbox` (tests), `http` posts it to a gateway
(SMS: `SMS_GATEWAY_URL`, a JSON POST {"mobile", "text"} that an operator points at their provider's
relay; WeCom: the group robot's webhook on qyapi.weixin.qq.com, the only host it will post to).
"""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("qiaoliang.channels")
WECOM_HOST = "qyapi.weixin.qq.com"
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class SentMessage:
    """A message a locmem backend kept (tests read `outbox`)."""

    channel: str
    to: str
    text: str


outbox: list[SentMessage] = []


class ChannelError(Exception):
    """Raise when a channel could not deliver (the task records it and carries on)."""


def _post_json(url: str, payload: dict[str, object]) -> None:
    data = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (https only, checked)
            if response.status >= 300:
                raise ChannelError(f"HTTP {response.status}")
    except OSError as exc:
        raise ChannelError(str(exc)) from exc


def _backend(name: str) -> str:
    value = str(getattr(settings, name, "console")).strip().lower()
    if value not in {"console", "locmem", "http"}:
        raise ImproperlyConfigured(f"{name} must be console, locmem or http, not {value!r}")
    return value


def send_sms(mobile: str, text: str) -> None:
    """Send a text message to a mainland mobile number through the configured backend."""
    backend = _backend("SMS_BACKEND")
    if backend == "locmem":
        outbox.append(SentMessage("sms", mobile, text))
    elif backend == "console":
        logger.info("SMS to %s: %s", mobile, text)
    else:
        url = getattr(settings, "SMS_GATEWAY_URL", "")
        if not url.startswith("https://"):
            raise ImproperlyConfigured("SMS_GATEWAY_URL must be an https:// URL when SMS_BACKEND=http")
        _post_json(url, {"mobile": mobile, "text": text})


def is_wecom_webhook(url: str) -> bool:
    """Tell whether a URL is a WeCom group robot webhook (https on qyapi.weixin.qq.com): nothing else is posted to."""
    parts = urlsplit(url or "")
    return parts.scheme == "https" and parts.hostname == WECOM_HOST and parts.path.startswith("/cgi-bin/webhook/send")


def send_wecom(webhook_url: str, text: str) -> None:
    """Post a text message to a WeCom (企业微信) group robot."""
    if not is_wecom_webhook(webhook_url):
        raise ChannelError("not a WeCom group robot webhook")
    backend = _backend("WECOM_BACKEND")
    if backend == "locmem":
        outbox.append(SentMessage("wecom", webhook_url, text))
    elif backend == "console":
        logger.info("WeCom robot %s: %s", webhook_url.split("key=")[0], text)
    else:
        _post_json(webhook_url, {"msgtype": "text", "text": {"content": text[:2000]}})
