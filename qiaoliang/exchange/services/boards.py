"""Writes for emergency boards (应急物资对接): staff open and close them, enterprises declare stock and capacity."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.core import audit
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.numbers import check_fits
from qiaoliang.core.permissions import CHANGE, require, require_capability
from qiaoliang.core.text import clean_text
from qiaoliang.exchange.models import CapacityDeclaration, Category, EmergencyBoard, Listing
from qiaoliang.orgs.models import Enterprise


@transaction.atomic
def open_emergency_board(*, actor: Any, name: str, category: str, keywords: str = "") -> EmergencyBoard:
    """Turn a category into an urgent board (federation staff only); its open needs become urgent."""
    require_capability(actor, "exchange.manage_boards", _("Only federation staff may open an emergency board."))
    if category not in Category.values:
        raise DomainError(_("Unknown listing category."), code="category")
    if not clean_text(name, multiline=False):
        raise DomainError(_("Give the board a name."), code="name")
    if EmergencyBoard.objects.filter(category=category, is_active=True).exists():
        raise DomainError(_("An emergency board for this category is already open."), code="board_open")
    board = EmergencyBoard.objects.create(
        name=clean_text(name, multiline=False)[:80], category=category,
        keywords=clean_text(keywords, multiline=False)[:300],
        started_by=actor if getattr(actor, "is_authenticated", False) else None,
    )  # fmt: skip
    audit.record("exchange.board.opened", actor=actor, target=board, data={"category": category})
    Listing.objects.filter(category=category, status=Listing.Status.PUBLISHED, direction="need").update(
        is_urgent=True, updated_at=timezone.now()
    )
    return board


@transaction.atomic
def close_emergency_board(*, actor: Any, board: EmergencyBoard) -> EmergencyBoard:
    """End an emergency board (federation staff only)."""
    require_capability(actor, "exchange.manage_boards", _("Only federation staff may close an emergency board."))
    EmergencyBoard.objects.filter(pk=board.pk, is_active=True).update(is_active=False, ended_at=timezone.now())
    audit.record("exchange.board.closed", actor=actor, target=board)
    board.refresh_from_db()
    return board


@transaction.atomic
def declare_capacity(
    *, actor: Any, board: EmergencyBoard, enterprise: Enterprise, product: str, stock: Decimal,
    daily_capacity: Decimal, unit: str,
) -> CapacityDeclaration:  # fmt: skip
    """Record or update an enterprise's stock and daily capacity on an open board."""
    if not board.is_active:
        raise DomainError(_("This emergency board is closed."), code="board_closed")
    require(actor, CHANGE, enterprise, _("You may not declare for this enterprise."))
    stock_value = check_fits(CapacityDeclaration, "stock", stock, code="stock", money=False) or Decimal(0)
    capacity = check_fits(CapacityDeclaration, "daily_capacity", daily_capacity, code="daily_capacity",
                          money=False) or Decimal(0)  # fmt: skip
    product, unit = clean_text(product, multiline=False), clean_text(unit, multiline=False)
    if not product or not unit:
        raise DomainError(_("Name the product and its unit."), code="product")
    declaration, _created = CapacityDeclaration.objects.update_or_create(
        board=board, enterprise=enterprise, product=product[:80],
        defaults={"stock": stock_value, "daily_capacity": capacity, "unit": unit[:20]},
    )  # fmt: skip
    audit.record("exchange.capacity.declared", actor=actor, target=declaration,
                 data={"stock": str(stock_value), "daily_capacity": str(capacity)})  # fmt: skip
    return declaration
