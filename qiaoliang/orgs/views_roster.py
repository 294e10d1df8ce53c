"""Excel roster pages: the template download, upload → preview → confirm, and the directory export."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.permissions import IMPORT, get_for_user, has_capability
from qiaoliang.orgs import exports, importers
from qiaoliang.orgs.models import Enterprise, Membership, Organization
from qiaoliang.orgs.selectors import DirectoryFilters

PREVIEW_ROWS = 50
PREVIEW_ERRORS = 500
PREVIEW_NOTES = 500
UPLOAD_LIFETIME_SECONDS = 24 * 3600


class RosterUploadForm(forms.Form):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        label=gettext_lazy("Import into"),
        empty_label=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    file = forms.FileField(
        label=gettext_lazy("Roster file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + importers.XLSX_CONTENT_TYPE}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Organization.objects.for_user(user, IMPORT).order_by("path")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        error = importers.inspect_roster(upload, upload.name)
        if error:
            raise forms.ValidationError(error)
        return upload


def _importable(user: Any) -> bool:
    return Organization.objects.for_user(user, IMPORT).exists()


def _imports_dir() -> Path:
    directory = Path(settings.MEDIA_ROOT) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _upload_paths(token: str) -> tuple[Path, Path]:
    if not importers.is_token(token):
        raise Http404
    directory = _imports_dir()
    return directory / f"{token}.xlsx", directory / f"{token}.json"


def _remove_upload(token: str) -> None:
    for path in _upload_paths(token):
        path.unlink(missing_ok=True)


def _remove_stale_uploads() -> None:
    """Delete uploads nobody confirmed within a day (they hold personal data)."""
    cutoff = time.time() - UPLOAD_LIFETIME_SECONDS
    for path in _imports_dir().iterdir():
        if path.suffix in {".xlsx", ".json"} and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _store_upload(upload: Any, *, user: Any, organization: Organization) -> str:
    token = secrets.token_urlsafe(32)
    file_path, meta_path = _upload_paths(token)
    upload.seek(0)
    with file_path.open("wb") as target:
        for chunk in upload.chunks():
            target.write(chunk)
    meta = {"user": user.pk, "organization": organization.pk, "file_name": upload.name[:200]}
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    return token


@login_required
@require_GET
def download_template(request: HttpRequest) -> HttpResponse:
    """Send the empty roster template (headers, text-formatted code columns, a 说明 sheet)."""
    if not _importable(request.user):
        raise PermissionDenied
    response = HttpResponse(importers.build_template(), content_type=importers.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, "会员名册模板.xlsx")
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    """Take a roster file and the organisation to import it into, then show the preview."""
    if not _importable(request.user):
        raise PermissionDenied
    if request.method == "POST":
        raw_organization = str(request.POST.get("organization", ""))
        if raw_organization.isdecimal():
            # A guessed organisation id answers 404 (invisible) or 403 (visible, not importable).
            get_for_user(Organization.objects.all(), request.user, IMPORT, pk=int(raw_organization))
        form = RosterUploadForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            _remove_stale_uploads()
            token = _store_upload(
                form.cleaned_data["file"], user=request.user, organization=form.cleaned_data["organization"]
            )
            return redirect("orgs:roster_import_preview", token=token)
    else:
        initial = {}
        if str(request.GET.get("organization", "")).isdecimal():
            initial["organization"] = request.GET["organization"]
        form = RosterUploadForm(user=request.user, initial=initial)
    return render(request, "orgs/roster_import.html", {"form": form, "max_mb": settings.IMPORT_MAX_BYTES // 2**20})


def _preview_rows(rows: list[importers.RosterRow]) -> list[dict[str, Any]]:
    return [
        {
            "row": row.row,
            "name": row.name,
            "uscc": row.uscc,
            "industry": row.industry_code or "",
            "region": row.region_code or "",
            "size": Enterprise.Size(row.size).label if row.size else "",
            "ownership": Enterprise.Ownership(row.ownership).label if row.ownership else "",
            "contact": row.contact_name,
            "mobile": row.contact_mobile or "",
            "level": Membership.Level(row.level).label,
            "joined_on": row.joined_on,
        }
        for row in rows[:PREVIEW_ROWS]
    ]


@login_required
@require_http_methods(["GET", "POST"])
def import_preview(request: HttpRequest, token: str) -> HttpResponse:
    """Show what the upload would do, with every bad row; import it on confirmation."""
    file_path, meta_path = _upload_paths(token)
    if not meta_path.exists() or not file_path.exists():
        raise Http404
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("user") != request.user.pk:
        raise Http404
    organization = get_for_user(Organization.objects.all(), request.user, IMPORT, pk=meta["organization"])

    if request.method == "POST" and request.POST.get("action") == "cancel":
        _remove_upload(token)
        messages.info(request, _("The upload was discarded; nothing was imported."))
        return redirect("orgs:roster_import")

    with file_path.open("rb") as handle:
        parsed = importers.parse_roster(handle, meta["file_name"], organization_region=organization.region_id or "")
    if parsed.file_error:
        _remove_upload(token)
        messages.error(request, parsed.file_error)
        return redirect("orgs:roster_import")

    confirm = request.method == "POST" and request.POST.get("action") == "confirm"
    try:
        result = importers.import_roster(
            actor=request.user, organization=organization, parsed=parsed, dry_run=not confirm, source="web"
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        result = importers.import_roster(actor=request.user, organization=organization, parsed=parsed, dry_run=True)
    if result.written:
        _remove_upload(token)
        messages.success(
            request,
            _(
                "Roster imported into %(organization)s: %(enterprises)d new enterprises, %(memberships)d new "
                "memberships, %(unchanged)d unchanged, %(people)d new contacts."
            )
            % {
                "organization": organization.name,
                "enterprises": result.enterprises_created,
                "memberships": result.memberships_created,
                "unchanged": result.memberships_unchanged,
                "people": result.people_created,
            },
        )
        return redirect(reverse("orgs:organization", args=[organization.pk]))
    context = {
        "token": token,
        "organization": organization,
        "file_name": meta["file_name"],
        "result": result,
        "errors": result.errors[:PREVIEW_ERRORS],
        "hidden_errors": max(len(result.errors) - PREVIEW_ERRORS, 0),
        "rows": _preview_rows(parsed.rows) if result.is_valid else [],
        "more_rows": max(len(parsed.rows) - PREVIEW_ROWS, 0),
        "nothing_to_do": result.is_valid and not (result.memberships_created or result.people_created),
        # Warnings first: they are what the secretary must check (a region read from the USCC, a zone not read).
        "notes": sorted(parsed.notes, key=lambda note: not note.warning)[:PREVIEW_NOTES],
        "note_count": len(parsed.notes),
        "hidden_notes": max(len(parsed.notes) - PREVIEW_NOTES, 0),
        "warning_count": sum(1 for note in parsed.notes if note.warning),
        "region_counts": importers.region_count_lines(parsed.region_counts),
    }
    return render(request, "orgs/roster_preview.html", context, status=200)


@login_required
@require_GET
def export_directory(request: HttpRequest) -> HttpResponse:
    """Download the member directory, with the current filters, as xlsx (audited)."""
    if not has_capability(request.user, "orgs.see_roster"):
        raise PermissionDenied
    filters = DirectoryFilters.from_mapping(request.GET)
    content, _count = exports.export_directory(user=request.user, filters=filters)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=importers.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, f"会员名录-{stamp}.xlsx")
    return response
