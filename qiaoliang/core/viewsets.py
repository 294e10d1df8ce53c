"""The API's router and the base viewset every app's API copies: single objects fetched through the rules."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.routers import DefaultRouter

from qiaoliang.core.api import MAX_ID
from qiaoliang.core.permissions import CHANGE, VIEW, get_for_user


class Router(DefaultRouter):
    """The API's router: no format-suffix routes (`/people.json`), paths with `<int:pk>`."""

    include_format_suffixes = False

    def __init__(self) -> None:
        super().__init__(use_regex_path=False)


class ScopedViewSet(viewsets.GenericViewSet):
    """Fetch single objects through the permission rules: invisible → 404, visible but not allowed → 403."""

    lookup_value_converter = "int"
    http_method_names = ["get", "post", "patch", "head", "options"]

    @property
    def user(self) -> Any:
        # IsAuthenticated (the default permission) has let only signed-in users this far.
        return self.request.user

    def get_object_action(self) -> str:
        return CHANGE if self.request.method not in ("GET", "HEAD", "OPTIONS") else VIEW

    def get_object(self) -> Any:
        return self.fetch(self.kwargs["pk"], self.get_object_action())

    def fetch(self, pk: Any, action: str = VIEW) -> Any:
        """Fetch one object of the viewset's model for an action (404 / 403 as the rules say)."""
        if int(pk) > MAX_ID:
            raise NotFound
        queryset = self.decorate(self.queryset_model()._default_manager.all())
        return get_for_user(queryset, self.user, action, pk=pk)

    def queryset_model(self) -> Any:
        raise NotImplementedError

    def decorate(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Add the joins and prefetches the output serializer needs (constant queries per page)."""
        return queryset
