"""Import a member roster (xlsx) into an organisation, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.core.exceptions import DomainError
from qiaoliang.orgs import importers
from qiaoliang.orgs.models import Organization

MAX_WARNINGS_SHOWN = 50  # -v 2 shows every note


class Command(BaseCommand):
    help = "Import a member roster (.xlsx, the roster template's columns) into an organisation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the roster workbook (.xlsx)")
        parser.add_argument("--org", dest="org", default="", help="code of the organisation (default: the federation)")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = self._organization(options["org"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("File %(path)s does not exist.") % {"path": path})
        with path.open("rb") as handle:
            parsed = importers.parse_roster(handle, path.name, organization_region=organization.region_id or "")
        if parsed.file_error:
            raise CommandError(parsed.file_error)
        try:
            result = importers.import_roster(
                actor=None, organization=organization, parsed=parsed, dry_run=options["dry_run"], source="cli"
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc

        summary = _(
            "%(rows)d rows for %(organization)s: %(enterprises)d new enterprises, %(existing)d existing, "
            "%(memberships)d new memberships, %(unchanged)d unchanged, %(people)d new contacts."
        ) % {
            "rows": result.rows,
            "organization": organization.name,
            "enterprises": result.enterprises_created,
            "existing": result.enterprises_existing,
            "memberships": result.memberships_created,
            "unchanged": result.memberships_unchanged,
            "people": result.people_created,
        }
        if result.errors:
            for line in importers.error_lines(result.errors):
                self.stderr.write(line)
            values = {"count": len(result.errors), "file": path.name}
            raise CommandError(_("%(count)d errors in %(file)s; nothing was imported.") % values)
        self.stdout.write(summary)
        if parsed.region_counts:
            lines = importers.region_count_lines(parsed.region_counts)
            counts = "; ".join(f"{label} {count}" for label, count in lines)
            self.stdout.write(_("Regions read by: %(counts)s") % {"counts": counts})
        shown = 0
        for note in parsed.notes:
            if options["verbosity"] >= 2 or (note.warning and shown < MAX_WARNINGS_SHOWN):
                shown += 1
                self.stdout.write(str(_("Row %(row)d [%(column)s] %(reason)s") % {
                    "row": note.row, "column": note.column, "reason": note.message}))  # fmt: skip
        if result.dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
        else:
            self.stdout.write(self.style.SUCCESS(_("Imported.")))

    def _organization(self, code: str) -> Organization:
        if code:
            organization = Organization.objects.filter(code=code).first()
            if organization is None:
                raise CommandError(_("There is no organisation with code %(code)s.") % {"code": code})
            return organization
        roots = list(Organization.objects.filter(kind=Organization.Kind.FEDERATION, parent__isnull=True)[:2])
        if len(roots) != 1:
            raise CommandError(_("Name the organisation to import into with --org CODE."))
        return roots[0]
