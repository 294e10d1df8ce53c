"""Status moves: one table per model and one function that moves a status.

`Transitions.move()` locks the row, checks the table, sets the status and any fields that go with the move,
saves with `update_fields`, writes a history row and an audit entry with the organisation, all in one
transaction. Templates ask `allows()`, which reads the same table, before they show a button.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils.translation import gettext as _

from qiaoliang.core import audit
from qiaoliang.core.exceptions import DomainError

M = TypeVar("M", bound=models.Model)


def _organization_of(obj: Any) -> int | None:
    value = getattr(obj, "organization_id", None)
    return int(value) if value else None


@dataclass(frozen=True)
class Transitions:
    """The status table of one model, its history table and its audit action prefix."""

    model: type[models.Model]
    table: Mapping[str, set[str]]
    audit_prefix: str
    history_model: type[models.Model] | None = None
    history_fk: str = ""
    status_field: str = "status"
    organization: Callable[[Any], int | None] = _organization_of
    # Moves only the system makes (expiry, an edit sending a listing back to review): never offered as buttons.
    system_moves: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def allows(self, obj: Any, to_status: str, *, system: bool = False) -> bool:
        """Tell whether the table allows the move from the object's current status."""
        current = getattr(obj, self.status_field)
        if to_status not in self.table.get(current, set()):
            return False
        return system or (current, to_status) not in self.system_moves

    def targets(self, obj: Any) -> list[str]:
        """Return the statuses a user may move the object to, in the table's order."""
        current = getattr(obj, self.status_field)
        return [to for to in self.table.get(current, set()) if (current, to) not in self.system_moves]

    def label(self, value: str) -> str:
        choices = dict(self.model._meta.get_field(self.status_field).flatchoices)  # type: ignore[union-attr]
        return str(choices.get(value, value))

    def refuse(self, obj: Any, to_status: str) -> DomainError:
        """Return the error for a move the table does not allow."""
        return DomainError(
            _("%(object)s that is %(from)s cannot become %(to)s.")
            % {
                "object": str(self.model._meta.verbose_name).capitalize(),
                "from": self.label(getattr(obj, self.status_field)),
                "to": self.label(to_status),
            },
            code="transition",
        )

    @transaction.atomic
    def move(
        self,
        obj: M,
        to_status: str,
        *,
        actor: Any,
        note: str = "",
        changes: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        system: bool = False,
        check: Callable[[M], None] | None = None,
    ) -> M:
        """Lock, check the table, apply the status and `changes`, save, write history and audit; return the row.

        `check` runs on the locked row before anything changes (raise DomainError to refuse).
        """
        locked: M = self.model._default_manager.select_for_update().get(pk=obj.pk)  # type: ignore[assignment]
        from_status = getattr(locked, self.status_field)
        if not self.allows(locked, to_status, system=system):
            raise self.refuse(locked, to_status)
        if check is not None:
            check(locked)
        update_fields = [self.status_field]
        setattr(locked, self.status_field, to_status)
        for name, value in (changes or {}).items():
            setattr(locked, name, value)
            update_fields.append(name)
        if any(f.name == "updated_at" for f in self.model._meta.concrete_fields):
            update_fields.append("updated_at")
        locked.save(update_fields=update_fields)
        user = actor if getattr(actor, "is_authenticated", False) else None
        if self.history_model is not None:
            self.history_model._default_manager.create(
                **{self.history_fk: locked}, from_status=from_status, to_status=to_status, actor=user, note=note[:500]
            )
        audit.record(
            f"{self.audit_prefix}.{to_status}",
            actor=user,
            target=locked,
            organization_id=self.organization(locked),
            data={"from": from_status, "note": note, **(data or {})},
        )
        return locked
