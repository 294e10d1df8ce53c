"""The permission registry: every model's actions are registered, a typo raises instead of returning nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured

from qiaoliang.core.models import Industry
from qiaoliang.core.permissions import (
    RuleRegistry,
    UnknownActionError,
    has_capability,
    register_capability,
    rules,
)
from qiaoliang.orgs.models import Enterprise


def test_an_unknown_action_raises_instead_of_returning_nothing(world) -> None:
    with pytest.raises(UnknownActionError, match="'veiw'"):
        Enterprise.objects.for_user(world.staff, "veiw")


def test_a_model_without_rules_raises() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"core\.Industry has no permission rules"):
        rules.rule(Industry, "view")


def test_an_action_registered_twice_is_refused() -> None:
    registry = RuleRegistry()
    registry.register(Industry, view=lambda qs, user: qs)
    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        registry.register(Industry, view=lambda qs, user: qs.none())


def test_an_unknown_capability_raises(world) -> None:
    with pytest.raises(UnknownActionError, match=r"exchange\.reveiw"):
        has_capability(world.staff, "exchange.reveiw")


def test_a_capability_cannot_be_registered_twice() -> None:
    with pytest.raises(ImproperlyConfigured):
        register_capability("exchange.review", lambda user: True)


def test_anonymous_users_get_nothing_from_any_rule(db) -> None:
    assert list(Enterprise.objects.for_user(AnonymousUser(), "view")) == []
