"""Notifications as a platform service: tell the people an action concerns, in the app and by their channels.

`notify()` writes one in-app notification per recipient inside the caller's transaction and, after commit,
a background task delivers it by e-mail, SMS or a WeCom group robot as each recipient's preferences say.
Texts are rendered in the site's language (Chinese) because they are stored and sent, not shown once.
The acting user is not told about their own action.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from qiaoliang.core import audit, channels
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.models import Notification, NotificationPreference

DELIVERY_BATCH = 100


def _render(text: Any, params: dict[str, Any] | None) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        rendered = str(text)
        return rendered % params if params else rendered


def notify(
    *,
    users: Iterable[Any],
    kind: str,
    title: Any,
    body: Any = "",
    params: dict[str, Any] | None = None,
    url: str = "",
    target: models.Model | None = None,
    organization_id: int | None = None,
    actor: Any = None,
    notify_actor: bool = False,
) -> list[Notification]:
    """Write a notification for each user (deduplicated, active ones, not the actor) and deliver it after commit.

    `title` and `body` may be lazy translations with %(name)s placeholders filled from `params`.
    """
    actor_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    recipients: dict[int, Any] = {}
    for user in users:
        if user is None or not getattr(user, "is_active", False):
            continue
        if user.pk == actor_id and not notify_actor:
            continue
        recipients.setdefault(user.pk, user)
    if not recipients:
        return []
    title_text = _render(title, params)[:200]
    body_text = _render(body, params)[:2000] if body else ""
    content_type = ContentType.objects.get_for_model(target) if target is not None else None
    rows = Notification.objects.bulk_create(
        [
            Notification(
                user_id=user_id,
                kind=kind,
                title=title_text,
                body=body_text,
                url=url[:300],
                organization_id=organization_id,
                target_type=content_type,
                target_id=str(target.pk) if target is not None else "",
                actor_id=actor_id,
            )
            for user_id in recipients
        ]
    )
    ids = [row.pk for row in rows if row.pk]
    if not ids:  # a backend that does not return ids from bulk_create: look them up
        ids = list(
            Notification.objects.filter(user_id__in=list(recipients), kind=kind, title=title_text)
            .order_by("-id")
            .values_list("pk", flat=True)[: len(recipients)]
        )
    for start in range(0, len(ids), DELIVERY_BATCH):
        enqueue_on_commit("core.deliver_notifications", ids[start : start + DELIVERY_BATCH])
    return rows


def preference_for(user: Any) -> NotificationPreference:
    """Return the user's preferences (defaults when they never saved any)."""
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference or NotificationPreference(user=user)


def _muted(preference: NotificationPreference, kind: str) -> bool:
    return any(kind == muted or kind.startswith(f"{muted}.") for muted in preference.muted_kinds or [])


def _absolute(url: str) -> str:
    base = str(getattr(settings, "SITE_URL", "")).rstrip("/")
    return f"{base}{url}" if url.startswith("/") and base else url


def deliver(notification_ids: list[int]) -> int:
    """Send notifications by the channels their recipients chose (idempotent: a channel is used once)."""
    sent = 0
    notifications = Notification.objects.filter(pk__in=notification_ids).select_related("user")
    preferences = {
        preference.user_id: preference
        for preference in NotificationPreference.objects.filter(
            user_id__in={notification.user_id for notification in notifications}
        )
    }
    for notification in notifications:
        user = notification.user
        preference = preferences.get(user.pk) or NotificationPreference(user=user)
        if _muted(preference, notification.kind):
            continue
        done = set(notification.channels_sent or [])
        text = notification.title + (f"\n{notification.body}" if notification.body else "")
        link = _absolute(notification.url)
        message = f"{text}\n{link}" if link else text
        wanted = _channels(preference, user)
        for name in wanted:
            if name in done:
                continue
            try:
                _send(name, notification, user, preference, message)
            except (channels.ChannelError, OSError):  # one channel failing does not stop the others
                continue
            done.add(name)
            sent += 1
        if done != set(notification.channels_sent or []):
            Notification.objects.filter(pk=notification.pk).update(channels_sent=sorted(done))
    return sent


def _channels(preference: NotificationPreference, user: Any) -> list[str]:
    wanted = []
    if preference.email and user.email:
        wanted.append("email")
    if preference.sms and user.mobile:
        wanted.append("sms")
    if preference.wecom and preference.wecom_webhook:
        wanted.append("wecom")
    return wanted


def _send(
    channel: str, notification: Notification, user: Any, preference: NotificationPreference, message: str
) -> None:
    if channel == "email":
        send_mail(notification.title[:150], message, settings.DEFAULT_FROM_EMAIL, [user.email])
    elif channel == "sms":
        channels.send_sms(user.mobile, message[:300])
    else:
        channels.send_wecom(preference.wecom_webhook, message)


def unread_count(user: Any) -> int:
    """Return how many notifications the user has not read (one indexed query)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


@transaction.atomic
def mark_read(*, user: Any, ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications (all, or these ids) as read; return how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


@transaction.atomic
def save_preferences(
    *, user: Any, email: bool, sms: bool, wecom: bool, wecom_webhook: str, muted_kinds: list[str]
) -> NotificationPreference:
    """Store a user's channel choices; a WeCom webhook must be a qyapi.weixin.qq.com robot address."""
    webhook = wecom_webhook.strip()
    if webhook and not channels.is_wecom_webhook(webhook):
        raise DomainError(
            _(
                "Give the group robot's webhook address from WeCom (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…)."
            ),
            code="wecom_webhook",
        )
    if wecom and not webhook:
        raise DomainError(_("Give the group robot's webhook address to receive notifications in WeCom."),
                          code="wecom_webhook")  # fmt: skip
    if sms and not getattr(user, "mobile", None):
        raise DomainError(_("Your account has no mobile number for text messages."), code="sms")
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user,
        defaults={"email": email, "sms": sms, "wecom": wecom, "wecom_webhook": webhook, "muted_kinds": muted_kinds},
    )
    audit.record("core.notification_preference.saved", actor=user, target=preference,
                 data={"email": email, "sms": sms, "wecom": wecom})  # fmt: skip
    return preference
