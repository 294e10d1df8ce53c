"""Back office for organisations and members.

Organisations, enterprises, people and memberships are written through the services (which keep
the tree path and the search keys right, and audit); the other models save directly and the
AuditedAdminMixin audits them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from qiaoliang.core import audit
from qiaoliang.core.admin import AuditedAdminMixin
from qiaoliang.core.codes import normalize_mobile, normalize_uscc
from qiaoliang.orgs import services
from qiaoliang.orgs.announcements import MEMBERSHIP, enterprises_changed
from qiaoliang.orgs.models import (
    Department,
    Enterprise,
    Membership,
    Organization,
    Partnership,
    Person,
    Position,
    Zone,
)
from qiaoliang.orgs.selectors import search_enterprises


def _adopt(target: models.Model, source: models.Model) -> None:
    """Copy a service-saved row into the object the admin keeps using (for its messages and inlines)."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db


def _changed(form: ModelForm, allowed: set[str]) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in allowed}


# --- organisations ----------------------------------------------------------------------


class OrganizationAdminForm(forms.ModelForm):
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = Organization
        fields = ["code", *sorted(services.ORGANIZATION_FIELDS), "parent"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        parent = data.get("parent")
        if data.get("kind") and data["kind"] != Organization.Kind.FEDERATION and parent is None:
            self.add_error("parent", _("Only a federation can stand at the top of the tree."))
        if parent is not None and self.instance.pk and parent.path.startswith(self.instance.path):
            self.add_error("parent", _("An organisation cannot be moved under itself or its own subtree."))
        return data


class PartnershipInline(admin.TabularInline):
    model = Partnership
    extra = 0
    fields = ["partner_name", "kind", "country_or_region", "agreement_date", "status"]


@admin.register(Organization)
class OrganizationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = OrganizationAdminForm
    list_display = ["name", "code", "kind", "chamber_kind", "parent", "depth", "is_active"]
    list_filter = ["kind", "chamber_kind", "is_active"]
    search_fields = ["code", "name", "short_name", "name_pinyin"]
    list_select_related = ["parent"]
    raw_id_fields = ["parent"]
    autocomplete_fields = ["region"]
    readonly_fields = ["path", "depth"]
    ordering = ["path"]
    inlines = [PartnershipInline]

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            fields = {k: data[k] for k in services.ORGANIZATION_FIELDS - {"name", "kind"} if k in data}
            created = services.create_organization(
                actor=request.user, code=data["code"], name=data["name"], kind=data["kind"], parent=data.get("parent"),
                **fields,
            )  # fmt: skip
            _adopt(obj, created)
            return
        if "parent" in form.changed_data and data.get("parent") is not None:
            services.move_organization(actor=request.user, organization=obj, new_parent=data["parent"])
        updated = services.update_organization(
            actor=request.user, organization=obj, **_changed(form, services.ORGANIZATION_FIELDS)
        )
        _adopt(obj, updated)


@admin.register(Zone)
class ZoneAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "federation"]
    search_fields = ["code", "name"]
    list_select_related = ["federation"]
    raw_id_fields = ["federation"]
    autocomplete_fields = ["organizations"]


@admin.register(Department)
class DepartmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "short_name", "contact_name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "short_name"]


@admin.register(Partnership)
class PartnershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["partner_name", "organization", "kind", "country_or_region", "agreement_date", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["partner_name", "organization__name", "country_or_region"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization"]
    date_hierarchy = "agreement_date"


# --- enterprises and memberships ------------------------------------------------------------


class EnterpriseAdminForm(forms.ModelForm):
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = Enterprise
        fields = ["uscc", *sorted(services.ENTERPRISE_FIELDS)]

    def clean_uscc(self) -> str:
        if self.instance.pk:
            return str(self.instance.uscc)
        try:
            return normalize_uscc(self.cleaned_data.get("uscc"))
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from exc


class MembershipInline(admin.TabularInline):
    """The enterprise's memberships, to look at: they are added and changed on the membership pages, through the
    services (which tell the members and announce the change to the apps that answer for members)."""

    model = Membership
    extra = 0
    fields = ["organization", "level", "joined_on", "status"]
    readonly_fields = ["organization", "level", "joined_on", "status"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Enterprise)
class EnterpriseAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = EnterpriseAdminForm
    list_display = ["name", "uscc", "industry", "region", "size", "ownership", "is_active"]
    list_filter = ["size", "ownership", "is_active", "industry__section"]
    search_fields = ["name", "uscc"]
    list_select_related = ["industry", "region"]
    autocomplete_fields = ["industry", "region"]
    inlines = [MembershipInline]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["uscc"] if obj is not None else []

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> tuple[Any, bool]:
        """Search like the directory: Traditional input, pinyin initials, credit code."""
        return search_enterprises(queryset, search_term), False

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            fields = {k: data[k] for k in services.ENTERPRISE_FIELDS - {"name"} if k in data}
            created = services.create_enterprise(actor=request.user, uscc=data["uscc"], name=data["name"], **fields)
            _adopt(obj, created)
            return
        changes = _changed(form, services.ENTERPRISE_FIELDS)
        updated = services.update_enterprise(actor=request.user, enterprise=obj, **changes)
        _adopt(obj, updated)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        pk = obj.pk  # None once deleted
        super().delete_model(request, obj)
        enterprises_changed([pk], None)  # what was answered for it is gone: the apps count again

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        enterprises_changed(ids, None)


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["enterprise", "organization", "level", "joined_on", "status"]
    list_filter = ["level", "status", "organization__kind"]
    search_fields = ["enterprise__name", "enterprise__uscc", "organization__name", "organization__code"]
    list_select_related = ["enterprise", "organization"]
    raw_id_fields = ["enterprise", "organization"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["enterprise", "organization"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            saved = services.update_membership(
                actor=request.user, membership=obj, **_changed(form, {"level", "joined_on", "status"})
            )
        else:
            saved = services.add_membership(
                actor=request.user, enterprise=data["enterprise"], organization=data["organization"],
                level=data["level"], joined_on=data.get("joined_on"), status=data["status"],
            )  # fmt: skip
        _adopt(obj, saved)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        enterprises_changed([obj.enterprise_id], [MEMBERSHIP])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        ids = list(queryset.values_list("enterprise_id", flat=True))
        super().delete_queryset(request, queryset)
        enterprises_changed(ids, [MEMBERSHIP])


# --- people and posts ------------------------------------------------------------------------


class PersonAdminForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = sorted(services.PERSON_FIELDS)

    def clean_mobile(self) -> str | None:
        value = self.cleaned_data.get("mobile")
        if not value:
            return None
        try:
            return normalize_mobile(value)
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from exc


class PositionInline(admin.TabularInline):
    model = Position
    extra = 0
    fields = ["title", "organization", "zone", "term_start", "term_end"]
    raw_id_fields = ["organization", "zone"]


@admin.register(Person)
class PersonAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = PersonAdminForm
    list_display = ["name", "enterprise", "job_title", "masked_mobile", "is_primary_contact"]
    list_filter = ["is_primary_contact"]
    search_fields = ["name", "name_pinyin", "mobile", "email", "enterprise__name"]
    list_select_related = ["enterprise"]
    raw_id_fields = ["enterprise"]
    inlines = [PositionInline]
    show_full_result_count = False

    @admin.display(description=_("mobile"))
    def masked_mobile(self, obj: Person) -> str:
        return obj.masked_mobile

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Show a person's full contact details, and audit that they were seen."""
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            person = Person.objects.filter(pk=object_id).first() if str(object_id).isdecimal() else None
            if person is not None and (person.mobile or person.email):
                audit.record("admin.orgs.person.personal_data_viewed", actor=request.user, target=person)
        return response

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            saved = services.update_person(actor=request.user, person=obj, **_changed(form, services.PERSON_FIELDS))
        else:
            fields = {k: data[k] for k in services.PERSON_FIELDS - {"name", "mobile"} if k in data}
            saved = services.create_person(actor=request.user, name=data["name"], mobile=data.get("mobile"), **fields)
        _adopt(obj, saved)


@admin.register(Position)
class PositionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["person", "title", "organization", "zone", "term_start", "term_end"]
    list_filter = ["title"]
    search_fields = ["person__name", "person__name_pinyin", "organization__name", "zone__name"]
    list_select_related = ["person", "organization", "zone"]
    raw_id_fields = ["person", "organization", "zone"]
