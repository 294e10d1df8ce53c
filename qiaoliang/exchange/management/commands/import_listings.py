"""Import a resource sheet (xlsx: offers and needs) into an organisation, all or nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.core.exceptions import DomainError
from qiaoliang.exchange import importers
from qiaoliang.orgs.models import Organization


class Command(BaseCommand):
    help = (
        "Import offers and needs from a resource sheet (.xlsx; columns 统一社会信用代码, 企业名称, 供需, 类别, 标题, "
        "描述, 行业代码, 行政区划代码, 数量, 单位, 价格或预算, 有效期至, 外部编号). "
        "Nothing is written if any row has an error. Listings are published unless --draft is given. "
        "Re-importing a file skips unchanged rows and updates changed ones in place "
        "(matched by enterprise and 外部编号). Enterprises new to the platform are recorded as non-members of the "
        "organisation unless --as-members is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the resource sheet (.xlsx)")
        parser.add_argument(
            "--org",
            dest="org",
            default="",
            help="code of the organisation that records new enterprises (default: the federation)",
        )
        parser.add_argument(
            "--as-members", action="store_true", help="make enterprises new to the platform members of the organisation"
        )
        parser.add_argument(
            "--suggest", action="store_true", help="store match suggestions (one background task per chunk of listings)"
        )
        parser.add_argument("--draft", action="store_true", help="import as drafts instead of publishing")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        parser.add_argument(
            "--no-index", action="store_true", help="do not embed the listings now (the matching engine does it later)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = self._organization(options["org"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("File %(path)s does not exist.") % {"path": path})
        started = time.monotonic()
        with path.open("rb") as handle:
            parsed = importers.parse_sheet(handle, path.name)
        if parsed.file_error:
            raise CommandError(parsed.file_error)
        try:
            result = importers.import_listings(
                actor=None, organization=organization, parsed=parsed, draft=options["draft"],
                dry_run=options["dry_run"], as_members=options["as_members"], suggest=options["suggest"], source="cli",
            )  # fmt: skip
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if result.errors:
            for line in importers.error_lines(result.errors):
                self.stderr.write(line)
            values = {"count": len(result.errors), "file": path.name}
            raise CommandError(_("%(count)d errors in %(file)s; nothing was imported.") % values)

        self.stdout.write(
            _(
                "%(rows)d rows for %(organization)s: %(created)d new listings, %(updated)d updated, %(unchanged)d "
                "unchanged; %(enterprises)d enterprises new to the platform, %(memberships)d new memberships."
            )
            % {
                "rows": result.rows,
                "organization": organization.name,
                "created": result.listings_created,
                "updated": result.listings_updated,
                "unchanged": result.listings_unchanged,
                "enterprises": result.enterprises_created,
                "memberships": result.memberships_created,
            }
        )
        if result.validity_shortened:
            self.stdout.write(
                _("%(count)d listings were valid for more than two years; they are valid until %(date)s.")
                % {
                    "count": result.validity_shortened,
                    "date": (timezone.localdate() + importers.MAX_VALIDITY).isoformat(),
                }
            )
        if result.dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
            return
        self.stdout.write(
            self.style.SUCCESS(_("Imported in %(seconds).1f s.") % {"seconds": time.monotonic() - started})
        )
        if options["no_index"] or not result.listing_ids:
            return
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if options["verbosity"] > 1 or done == total:
                self.stdout.write(_("Embedded %(done)d of %(total)d listings.") % {"done": done, "total": total})

        count = importers.index_listings(result.listing_ids, progress=progress)
        if count:
            self.stdout.write(
                _("Indexed %(count)d listings for matching in %(seconds).1f s.")
                % {"count": count, "seconds": time.monotonic() - started}
            )

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
