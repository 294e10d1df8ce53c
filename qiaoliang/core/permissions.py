"""One vocabulary for permissions: scoped querysets, `get_for_user`, `can`, `require` and capabilities.

`core` knows no domain model. Each app registers, for each of its models, the actions it supports and
the filter that answers each (`rules.register(Listing, view=..., change=..., review=...)`) in its
`permissions.py`, loaded by its AppConfig. A model's queryset inherits `ScopedQuerySet`, whose
`for_user(user, action)` looks the filter up: an unregistered model or an unknown action raises, so a
typo never silently returns nothing. Who a user is (roles, the organisations they see) is worked out by
the `orgs` app; the filters ask it.

Capabilities are the user-level questions that have no object ("may open an emergency board", "may
review listings somewhere"); apps register them by name and the navigation asks them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self, TypeVar

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _

from qiaoliang.core.exceptions import NotAllowedError

VIEW = "view"
CHANGE = "change"
CREATE = "create"
DELETE = "delete"
VIEW_PERSONAL = "view_personal"
EXPORT = "export"
IMPORT = "import"
REVIEW = "review"

M = TypeVar("M", bound=models.Model)
Rule = Callable[[models.QuerySet[Any], Any], models.QuerySet[Any]]


class UnknownActionError(LookupError):
    """Raise when code asks a model for an action nobody registered (a programming error)."""


class RuleRegistry:
    """Map (model, action) to the filter that keeps the rows a user may act on."""

    def __init__(self) -> None:
        self._rules: dict[type[models.Model], dict[str, Rule]] = {}

    def register(self, model: type[models.Model], **rules: Rule) -> None:
        """Register the filters of a model's actions; registering an action twice is an error."""
        current = self._rules.setdefault(model, {})
        clash = set(current) & set(rules)
        if clash:
            raise ImproperlyConfigured(f"{model._meta.label}: actions registered twice: {sorted(clash)}")
        current.update(rules)

    def rule(self, model: type[models.Model], action: str) -> Rule:
        """Return the filter of one action of a model, or raise."""
        rules = self._rules.get(model) or self._rules.get(model._meta.concrete_model)  # type: ignore[arg-type]
        if rules is None:
            raise ImproperlyConfigured(f"{model._meta.label} has no permission rules registered")
        try:
            return rules[action]
        except KeyError:
            raise UnknownActionError(
                f"{model._meta.label} has no action {action!r}; registered: {sorted(rules)}"
            ) from None

    def actions(self, model: type[models.Model]) -> set[str]:
        """Return the actions registered for a model."""
        return set(self._rules.get(model, {}))

    def is_registered(self, model: type[models.Model]) -> bool:
        return model in self._rules


rules = RuleRegistry()


def is_active_user(user: Any) -> bool:
    """Tell whether the user is signed in and active."""
    return user is not None and bool(getattr(user, "is_authenticated", False)) and bool(user.is_active)


class ScopedQuerySet(models.QuerySet[M]):
    """A queryset that filters itself through the rules registered for its model."""

    def for_user(self, user: Any, action: str = VIEW) -> Self:
        """Return the rows the user may do `action` to (none for anonymous or inactive users)."""
        rule = rules.rule(self.model, action)
        if not is_active_user(user):
            return self.none()
        return rule(self, user)  # type: ignore[return-value]  # a rule returns a filtered copy of its queryset


def get_for_user(
    queryset: models.QuerySet[M], user: Any, action: str = VIEW, *, also: tuple[str, ...] = (), **lookup: Any
) -> M:
    """Fetch one object: 404 if the user may not see it, 403 if they see it but may not do `action`.

    One query: whether the user may do `action` (and each action of `also`) is read in the same SELECT as the
    object (an EXISTS per action); the answers for `also` are remembered for `can` in this request (ask for them
    only when the object is not changed before `can` asks).
    """
    checks = [name for name in dict.fromkeys((action, *also)) if name != VIEW]
    for name in checks:
        rules.rule(queryset.model, name)  # an unknown action raises before the query
    visible = queryset.for_user(user, VIEW)  # type: ignore[attr-defined]
    if checks:
        visible = visible.annotate(**{
            f"_qiaoliang_may_{index}": models.Exists(
                queryset.model._default_manager.for_user(user, name).filter(pk=models.OuterRef("pk"))  # type: ignore[attr-defined]
            )
            for index, name in enumerate(checks)
        })  # fmt: skip
    obj = visible.filter(**lookup).first()
    if obj is None:
        raise Http404
    allowed = {name: bool(getattr(obj, f"_qiaoliang_may_{index}")) for index, name in enumerate(checks)}
    for name in also:  # only what the caller asked to have remembered: a view may change the object and ask again
        if name in allowed:
            remember(user, name, obj, allowed[name])
    if action != VIEW and not allowed[action]:
        raise PermissionDenied
    return obj


def cached_on_user(user: Any, key: str, factory: Callable[[], Any]) -> Any:
    """Compute something about a user once per request (the user object lives as long as the request)."""
    cache: dict[str, Any] | None = getattr(user, "_qiaoliang_cache", None)
    if cache is None:
        cache = {}
        try:
            user._qiaoliang_cache = cache
        except AttributeError:  # an object that takes no attributes: compute every time
            return factory()
    if key not in cache:
        cache[key] = factory()
    return cache[key]


def forget(user: Any) -> None:
    """Drop what was computed about a user (after their roles changed)."""
    if hasattr(user, "_qiaoliang_cache"):
        del user._qiaoliang_cache


def _can_key(model: type[models.Model], action: str, pk: Any) -> str:
    return f"can:{model._meta.label_lower}:{action}:{pk}"


def remember(user: Any, action: str, obj: models.Model, allowed: bool) -> None:
    """Record for this request what `can(user, action, obj)` answers, when the caller has just worked it out."""
    cached_on_user(user, _can_key(type(obj), action, obj.pk), lambda: allowed)


def can(user: Any, action: str, obj: models.Model) -> bool:
    """Tell whether the user may do `action` to `obj` (templates use the `can` tag); cached per request."""
    model = type(obj)
    rules.rule(model, action)  # an unknown action raises here too, not only on a cache miss
    return bool(
        cached_on_user(
            user,
            _can_key(model, action, obj.pk),
            lambda: is_active_user(user) and model._default_manager.for_user(user, action).filter(pk=obj.pk).exists(),  # type: ignore[attr-defined]
        )
    )


def require(actor: Any, action: str, obj: models.Model, message: str | None = None) -> None:
    """Raise NotAllowedError unless the actor may do `action` to `obj`; `None` is the system (commands, tasks)."""
    if actor is None:
        return
    if not can(actor, action, obj):
        raise NotAllowedError(message or _("You may not do this."), code="forbidden")


# --- capabilities ---------------------------------------------------------------------------------

Capability = Callable[[Any], bool]
_capabilities: dict[str, Capability] = {}


def register_capability(name: str, check: Capability) -> None:
    """Register a named user-level permission ("exchange.review", "orgs.import_roster")."""
    if name in _capabilities:
        raise ImproperlyConfigured(f"capability {name!r} registered twice")
    _capabilities[name] = check


def has_capability(user: Any, name: str) -> bool:
    """Tell whether the user has a capability (cached per request); an unknown name raises."""
    try:
        check = _capabilities[name]
    except KeyError:
        raise UnknownActionError(f"unknown capability {name!r}; registered: {sorted(_capabilities)}") from None
    if not is_active_user(user):
        return False
    return bool(cached_on_user(user, f"capability:{name}", lambda: check(user)))


def require_capability(actor: Any, name: str, message: str | None = None) -> None:
    """Raise NotAllowedError unless the actor has the capability; `None` is the system."""
    if actor is not None and not has_capability(actor, name):
        raise NotAllowedError(message or _("You may not do this."), code="forbidden")
