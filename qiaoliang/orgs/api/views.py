"""API views of the orgs app: thin, scoped through `for_user`/`get_for_user`, writes through services."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from qiaoliang.core import audit
from qiaoliang.core.api import Pagination
from qiaoliang.core.htmx import CappedPaginator
from qiaoliang.core.permissions import VIEW, VIEW_PERSONAL, get_for_user, has_capability
from qiaoliang.core.viewsets import ScopedViewSet
from qiaoliang.orgs import services
from qiaoliang.orgs.api import serializers
from qiaoliang.orgs.api.filters import (
    DIRECTORY_PARAMETERS,
    DirectoryQuerySerializer,
    MembershipFilter,
    OrganizationFilter,
    PersonFilter,
)
from qiaoliang.orgs.models import Enterprise, Membership, Organization, Person, Zone
from qiaoliang.orgs.selectors import enterprise_directory, enterprise_directory_parts, get_scope


@extend_schema_view(
    list=extend_schema(summary=_lazy("List organisations"), description=_lazy("The organisations the user may see.")),
    retrieve=extend_schema(summary=_lazy("Show an organisation")),
)
class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Organisations in tree order."""

    serializer_class = serializers.OrganizationSerializer
    filterset_class = OrganizationFilter
    queryset = Organization.objects.none()

    def queryset_model(self) -> Any:
        return Organization

    def get_queryset(self) -> QuerySet[Organization]:
        return Organization.objects.for_user(self.user, VIEW).order_by("path")


@extend_schema_view(
    list=extend_schema(
        summary=_lazy("List zones"), description=_lazy("Zones with at least one organisation the user sees.")
    ),
    retrieve=extend_schema(summary=_lazy("Show a zone")),
)
class ZoneViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Zones (片区) with the ids of their visible organisations."""

    serializer_class = serializers.ZoneSerializer
    queryset = Zone.objects.none()
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Zone]:
        visible = Organization.objects.for_user(self.user, VIEW)
        zones = Zone.objects.for_user(self.user, VIEW)
        return zones.prefetch_related(Prefetch("organizations", queryset=visible.order_by("path"))).order_by("code")

    def get_object(self) -> Zone:
        # Zones are read-only here, so "visible" is the only check: invisible → 404.
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])


class DirectoryPagination(Pagination):
    """The directory's pages: `count` stops at htmx.COUNT_LIMIT and `count_capped` tells when it did (then
    `count` is a lower bound and pages go up to the limit)."""

    django_paginator_class = CappedPaginator

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any] | None:
        filters = getattr(view, "directory_filters", None)
        if filters is not None:
            user = request.user

            def paginator(object_list: Any, per_page: int) -> CappedPaginator:
                return CappedPaginator(object_list, per_page, parts=lambda: enterprise_directory_parts(user, filters))

            self.django_paginator_class = paginator  # type: ignore[assignment]
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data["count_capped"] = bool(getattr(getattr(self.page, "paginator", None), "capped", False))
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count_capped"] = {
            "type": "boolean",
            "description": _("True when the count stopped at its limit: there are at least `count` results."),
        }
        return paginated


@extend_schema_view(
    list=extend_schema(
        summary=_lazy("List member enterprises"),
        description=_lazy("The member directory, filtered and sorted by pinyin as in the web UI."),
        parameters=DIRECTORY_PARAMETERS,
    ),
    retrieve=extend_schema(summary=_lazy("Show a member enterprise")),
    create=extend_schema(
        summary=_lazy("Create a member enterprise"),
        request=serializers.EnterpriseCreateInputSerializer,
        responses={201: serializers.EnterpriseSerializer},
    ),
    partial_update=extend_schema(
        summary=_lazy("Change a member enterprise's profile"),
        request=serializers.EnterpriseProfileInputSerializer,
        responses={200: serializers.EnterpriseSerializer},
    ),
)
class EnterpriseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Member enterprises: the directory, profiles, and their creation by those who manage members."""

    serializer_class = serializers.EnterpriseSerializer
    queryset = Enterprise.objects.none()
    filter_backends: list[Any] = []  # the directory's own filters, shared with the web UI
    pagination_class = DirectoryPagination

    def queryset_model(self) -> Any:
        return Enterprise

    def decorate(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Join and prefetch what EnterpriseSerializer writes, and load only its columns."""
        memberships = Membership.objects.for_user(self.user, VIEW).select_related("organization")
        memberships = memberships.only(*serializers.ENTERPRISE_MEMBERSHIP_COLUMNS)
        return (
            queryset.select_related("industry", "region")
            .only(*serializers.ENTERPRISE_COLUMNS)
            .prefetch_related(Prefetch("memberships", queryset=memberships.order_by("organization__path")))
        )

    def get_queryset(self) -> QuerySet[Enterprise]:
        params = DirectoryQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        self.directory_filters = params.to_filters()  # the pagination splits a broad pinyin search by them
        return self.decorate(enterprise_directory(self.user, self.directory_filters))

    def _respond(self, enterprise: Enterprise, status_code: int) -> Response:
        enterprise = get_for_user(self.decorate(Enterprise.objects.all()), self.user, VIEW, pk=enterprise.pk)
        return Response(self.get_serializer(enterprise).data, status=status_code)

    def create(self, request: Request) -> Response:
        scope = get_scope(self.user)
        if not scope.manages_members:
            raise PermissionDenied(_("You may not add member enterprises."))
        data = serializers.EnterpriseCreateInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if fields.get("organization") is None and not scope.is_staff:
            raise ValidationError({"organization": [_("Choose the organisation the enterprise joins.")]})
        enterprise = services.create_enterprise(actor=self.user, **fields)
        return self._respond(enterprise, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        enterprise = self.get_object()
        data = serializers.EnterpriseProfileInputSerializer(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        enterprise = services.update_enterprise(actor=self.user, enterprise=enterprise, **data.validated_data)
        return self._respond(enterprise, status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(summary=_lazy("List memberships")),
    retrieve=extend_schema(summary=_lazy("Show a membership")),
    create=extend_schema(
        summary=_lazy("Add an enterprise to an organisation"),
        request=serializers.MembershipCreateInputSerializer,
        responses={201: serializers.MembershipSerializer},
    ),
    partial_update=extend_schema(
        summary=_lazy("Change a membership's level, join date or status"),
        request=serializers.MembershipChangeInputSerializer,
        responses={200: serializers.MembershipSerializer},
    ),
)
class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Memberships of enterprises in organisations."""

    serializer_class = serializers.MembershipSerializer
    filterset_class = MembershipFilter
    queryset = Membership.objects.none()

    def queryset_model(self) -> Any:
        return Membership

    def decorate(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("enterprise", "organization")

    def get_queryset(self) -> QuerySet[Membership]:
        memberships = Membership.objects.for_user(self.user, VIEW)
        return self.decorate(memberships).order_by("organization__path", "enterprise__name_pinyin", "pk")

    def _respond(self, membership: Membership, status_code: int) -> Response:
        membership = self.decorate(Membership.objects.all()).get(pk=membership.pk)
        return Response(self.get_serializer(membership).data, status=status_code)

    def create(self, request: Request) -> Response:
        if not has_capability(self.user, "orgs.manage_members"):
            raise PermissionDenied(_("You may not add memberships."))
        data = serializers.MembershipCreateInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        membership = services.add_membership(actor=self.user, **data.validated_data)
        return self._respond(membership, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        membership = self.get_object()
        data = serializers.MembershipChangeInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        membership = services.update_membership(actor=self.user, membership=membership, **data.validated_data)
        return self._respond(membership, status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(
        summary=_lazy("List people"),
        description=_lazy(
            "Mobile numbers and e-mail addresses are masked unless the user may see the personal data of the "
            "person's enterprise; showing them unmasked is written to the audit log."
        ),
    ),
    retrieve=extend_schema(summary=_lazy("Show a person")),
)
class PersonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """People: enterprise contacts and office holders."""

    serializer_class = serializers.PersonSerializer
    filterset_class = PersonFilter
    queryset = Person.objects.none()

    def queryset_model(self) -> Any:
        return Person

    def get_queryset(self) -> QuerySet[Person]:
        return Person.objects.for_user(self.user, VIEW).order_by("name_pinyin", "pk")

    def _personal_enterprise_ids(self, people: list[Person]) -> set[int] | None:
        """Return the ids among these people's enterprises whose personal data the user may see (None: all).

        One query for the whole page. Who manages an enterprise (staff, the secretary of a chamber it belongs
        to, its own contact) may see its people's numbers; a convenor's view-only reach does not.
        """
        if get_scope(self.user).is_all:
            return None
        enterprise_ids = {p.enterprise_id for p in people if p.enterprise_id is not None}
        if not enterprise_ids:
            return set()
        allowed = Enterprise.objects.for_user(self.user, VIEW_PERSONAL).filter(pk__in=enterprise_ids)
        return set(allowed.values_list("pk", flat=True))

    def _serialize(self, people: list[Person]) -> Any:
        allowed = self._personal_enterprise_ids(people)
        context = {**self.get_serializer_context(), "personal_enterprise_ids": allowed}
        shown = [p.pk for p in people if (p.mobile or p.email) and (allowed is None or p.enterprise_id in allowed)]
        if shown:
            audit.record("orgs.person.personal_data_viewed", actor=self.user, data={"people": sorted(shown)})
        return self.get_serializer_class()(people, many=True, context=context).data

    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(self._serialize(list(page)))
        return Response(self._serialize(list(queryset)))

    def retrieve(self, request: Request, pk: int) -> Response:
        return Response(self._serialize([self.get_object()])[0])
