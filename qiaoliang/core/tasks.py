"""Background work of the platform: delivering notifications by their recipients' channels."""

from __future__ import annotations

from qiaoliang.core import notifications
from qiaoliang.core.background import background


@background("core.deliver_notifications")
def deliver_notifications(notification_ids: list[int]) -> int:
    """Send a batch of notifications by e-mail, SMS or WeCom (idempotent: each channel once)."""
    return notifications.deliver(notification_ids)
