"""Background work of the organisations (django-tasks: in-process in tests and the demo, database queue in
production)."""

from __future__ import annotations

from qiaoliang.core.background import background
from qiaoliang.orgs import services


@background("orgs.send_invitation")
def send_invitation(invitation_id: int) -> bool:
    """Text an invitation to join to its mobile (an invitation already used is not sent)."""
    return services.send_invitation(invitation_id=invitation_id)
