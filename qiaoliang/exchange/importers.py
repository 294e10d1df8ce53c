"""The resource sheet (资源信息) importer: offers and needs collected before a 资源信息交流会, all or nothing.

The file is bounded and read by `core.sheets`; each column here says how its cell becomes a value, and rows
are checked against each other in memory. The database is then asked a few chunked questions (which
enterprises and listings exist) and written in one transaction with one audit entry. Enterprises new to the
platform are recorded through `orgs.services.record_enterprises`: they are non-members recorded by the
importing organisation (its staff see them and may invite them to join) unless `as_members` is given.
Text is cleaned on the way in (HTML removed, full-width letters and digits folded).

Re-importing: a row is matched to an existing listing by enterprise + 外部编号 (rows without a number by
enterprise + direction + category + title). An identical row is skipped; a changed row updates the listing
in place (its status stays; an expired listing with a new date is published again unless --draft); a row
whose listing was closed, or that would turn an offer into a need, is an error.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.core import audit, industries, regions, sheets
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.permissions import CHANGE, require
from qiaoliang.core.sheets import (
    CellError,
    Column,
    ParsedSheet,
    RowError,
    SheetSpec,
    cell_text,
    industry_parser,
    parse_uscc,
)
from qiaoliang.core.text import clean_text
from qiaoliang.exchange import matching_service
from qiaoliang.exchange.models import Category, Direction, Listing, ListingStatusChange
from qiaoliang.exchange.search import index_tokens
from qiaoliang.orgs import services as org_services
from qiaoliang.orgs.models import Organization
from qiaoliang.orgs.selectors import reviewing_organizations

# The headers are part of the file format users fill in, so they are fixed Chinese text, not translated.
USCC = "统一社会信用代码"
NAME = "企业名称"
DIRECTION = "供需"
CATEGORY = "类别"
TITLE = "标题"
DESCRIPTION = "描述"
INDUSTRY = "行业代码"
REGION = "行政区划代码"
QUANTITY = "数量"
UNIT = "单位"
PRICE = "价格或预算"
VALID_UNTIL = "有效期至"
EXTERNAL_ID = "外部编号"
SERVICE_AREA = "服务区域"
HEADERS = [USCC, NAME, DIRECTION, CATEGORY, TITLE, DESCRIPTION, INDUSTRY, REGION, QUANTITY, UNIT, PRICE,
           VALID_UNTIL, EXTERNAL_ID, SERVICE_AREA]  # fmt: skip
REQUIRED_HEADERS = [USCC, NAME, DIRECTION, CATEGORY, TITLE, VALID_UNTIL]

MAX_ROWS = 50_000
MAX_VALIDITY = datetime.timedelta(days=366 * 2)  # as services.validate: two years at the most
SUGGEST_CHUNK = 200
_BATCH = 1000

DIRECTION_TERMS = {"供": "offer", "供应": "offer", "供给": "offer", "提供": "offer", "需": "need", "需求": "need",
                   "求": "need", "求购": "need"}  # fmt: skip
CATEGORY_TERMS = {"项目": "project", "业务": "business", "技术": "technology", "服务": "service", "人才": "talent",
                  "资金": "capital", "物资": "material"}  # fmt: skip

_DIRECTION_WORDS = "供、需、offer、need"
_CATEGORY_WORDS = "、".join(CATEGORY_TERMS) + " / " + ", ".join(Category.values)
_NAME_MAX = 120  # orgs.Enterprise.name
_TITLE_MAX = Listing._meta.get_field("title").max_length or 120
_DESCRIPTION_MAX = Listing._meta.get_field("description").max_length or 5000
_UNIT_MAX = Listing._meta.get_field("unit").max_length or 20
_PRICE_TEXT_MAX = Listing._meta.get_field("price_text").max_length or 40
_EXTERNAL_MAX = Listing._meta.get_field("external_id").max_length or 60
_AREA_MAX = Listing._meta.get_field("service_area").max_length or 120
_QUANTITY_LIMIT = Decimal("1e12")  # DecimalField(max_digits=14, decimal_places=2)
_PRICE_LIMIT = Decimal("1e14")  # DecimalField(max_digits=16, decimal_places=2)
# Fields compared on re-import (a difference in any of them updates the listing).
COMPARED = ["category", "title", "description", "industry_id", "region_id", "quantity", "unit", "price_min",
            "price_max", "price_text", "valid_until", "service_area"]  # fmt: skip
TEXT_FIELDS = {"title", "description"}


# --- prices ------------------------------------------------------------------------------------

_MULTIPLIERS = {"亿": Decimal(100_000_000), "万": Decimal(10_000), "千": Decimal(1000), "百": Decimal(100),
                "k": Decimal(1000), "w": Decimal(10_000)}  # fmt: skip
_AMOUNT = r"(\d+(?:\.\d+)?)\s*(亿|万|千|百|k|w)?"
_RANGE_RE = re.compile(_AMOUNT + r"\s*(?:元)?\s*(?:[-~—–至到]|－)\s*" + _AMOUNT)
_SINGLE_RE = re.compile(_AMOUNT)
_UPPER_WORDS = re.compile(r"以内|以下|不超过|不高于|最高|封顶|之内")
_LOWER_WORDS = re.compile(r"起|以上|不低于|最低|至少")
# Rates, fees and formulas are not amounts of money.
_NOT_AN_AMOUNT = re.compile(r"%|％|BP|LPR|费率|利率|年化|面议|电议|询价|报价|议价|待定|协商")


def parse_price(text: str) -> tuple[Decimal | None, Decimal | None]:
    """Return (from, to) in yuan for a price or budget such as 50-80万元, 100万元以内, 1.2万元/吨, 面议.

    A range takes the unit of its upper end for a bare lower end (0.8-1.3万/月 is 8,000-13,000 a month);
    "以内" gives only an upper bound and "起" only a lower one; rates (年化4%, LPR+50BP) and 面议 give none.
    The per-unit part (/吨, /月) is kept in the listing's price text, not in the numbers.
    """
    value = unicodedata.normalize("NFKC", text or "").strip().lower().replace(",", "").replace(" ", "")
    if not value or _NOT_AN_AMOUNT.search(value.upper()) or _NOT_AN_AMOUNT.search(value):
        return None, None
    ranged = _RANGE_RE.search(value)
    if ranged:
        low_number, low_unit, high_number, high_unit = ranged.groups()
        high_factor = _MULTIPLIERS.get(high_unit or "", Decimal(1))
        low_factor = _MULTIPLIERS.get(low_unit, high_factor) if low_unit else high_factor
        low, high = Decimal(low_number) * low_factor, Decimal(high_number) * high_factor
        return (low, high) if low <= high else (high, low)
    single = _SINGLE_RE.search(value)
    if not single:
        return None, None
    amount = Decimal(single.group(1)) * _MULTIPLIERS.get(single.group(2) or "", Decimal(1))
    if _UPPER_WORDS.search(value):
        return None, amount
    if _LOWER_WORDS.search(value):
        return amount, None
    return amount, amount


# --- results -----------------------------------------------------------------------------------


@dataclass
class ListingRow:
    """One valid row of the sheet, with values already normalised."""

    row: int
    uscc: str
    name: str
    direction: str
    category: str
    title: str
    description: str = ""
    industry_id: str | None = None
    region_id: str | None = None
    quantity: Decimal | None = None
    unit: str = ""
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    price_text: str = ""
    valid_until: datetime.date | None = None
    external_id: str = ""
    service_area: str = ""
    was_shortened: bool = False

    def values(self) -> dict[str, Any]:
        """Return the listing's field values as stored."""
        return {
            "direction": self.direction,
            "category": self.category,
            "title": self.title,
            "description": self.description,
            "industry_id": self.industry_id,
            "region_id": self.region_id,
            "quantity": self.quantity,
            "unit": self.unit,
            "price_min": self.price_min,
            "price_max": self.price_max,
            "price_text": self.price_text,
            "valid_until": self.valid_until,
            "service_area": self.service_area,
        }


class SheetParse(ParsedSheet[ListingRow]):
    """What a resource sheet holds: its rows, the errors in them, or one error about the whole file."""


@dataclass
class ListingImportResult:
    """The counts of an import (or of what a dry run would do), and the errors that stopped it."""

    rows: int = 0
    listings_created: int = 0
    listings_updated: int = 0
    listings_unchanged: int = 0
    enterprises_created: int = 0
    memberships_created: int = 0
    validity_shortened: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False
    listing_ids: list[int] = field(default_factory=list)  # created or updated (to index)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "listings_created": self.listings_created,
            "listings_updated": self.listings_updated,
            "listings_unchanged": self.listings_unchanged,
            "enterprises_created": self.enterprises_created,
            "memberships_created": self.memberships_created,
            "validity_shortened": self.validity_shortened,
        }


# --- the columns --------------------------------------------------------------------------------


def _choice(terms: dict[str, str], accepted: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = cell_text(value)
        if not text:
            raise CellError(_("The cell is empty; write one of %(values)s.") % {"values": accepted})
        choice = terms.get(unicodedata.normalize("NFKC", text).strip().lower())
        if choice is None:
            raise CellError(
                _("%(value)s is not an accepted value; write one of %(values)s.") % {"value": text, "values": accepted}
            )
        return choice

    return parse


def _bounded_text(limit: int, message: str, *, multiline: bool = False, required: str = "") -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = clean_text(cell_text(value), multiline=multiline)
        if required and not text:
            raise CellError(required)
        if len(text) > limit:
            raise CellError(message % {"max": limit})
        return text

    return parse


def _quantity(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError(_("%(value)s is not a number.") % {"value": value})
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError(_("%(value)s is not a number.") % {"value": cell_text(value)}) from None
    if not number.is_finite():
        raise CellError(_("%(value)s is not a number.") % {"value": cell_text(value)})
    if number < 0:
        raise CellError(_("Quantities and prices cannot be negative."))
    if number >= _QUANTITY_LIMIT:
        raise CellError(_("%(value)s is too large a quantity.") % {"value": cell_text(value)})
    return number.quantize(Decimal("0.01"))


def _price(value: Any) -> tuple[str, Decimal | None, Decimal | None]:
    text = " ".join(unicodedata.normalize("NFKC", cell_text(value)).split())
    if not text:
        return "", None, None
    if len(text) > _PRICE_TEXT_MAX:
        raise CellError(_("The price or budget is longer than %(max)d characters.") % {"max": _PRICE_TEXT_MAX})
    low, high = parse_price(text)
    if any(amount is not None and amount >= _PRICE_LIMIT for amount in (low, high)):
        raise CellError(_("%(value)s is too large an amount.") % {"value": text})
    return text, low, high


def _valid_until(today: datetime.date) -> Callable[[Any], tuple[datetime.date, bool]]:
    """Return a parser of the validity date that also says whether it was shortened to the two-year limit."""

    def parse(value: Any) -> tuple[datetime.date, bool]:
        date = sheets.cell_date(value)
        if date is None:
            raise CellError(_("The date is empty; write until when the listing is valid as YYYY-MM-DD."))
        if date < today:
            raise CellError(
                _("The date %(date)s has passed; the listing would be expired.") % {"date": date.isoformat()}
            )
        if date > today + MAX_VALIDITY:
            # Listings are valid for two years at the most; a sheet collected with a later date is taken at the
            # limit rather than refused, and the import says how many were shortened.
            return today + MAX_VALIDITY, True
        return date, False

    return parse


def _external_id(value: Any) -> str:
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    if len(text) > _EXTERNAL_MAX:
        raise CellError(_("The external number is longer than %(max)d characters.") % {"max": _EXTERNAL_MAX})
    return text


def sheet_spec() -> SheetSpec:
    """Return the resource sheet's columns with their parsers (the code tables are loaded once per call)."""
    required = set(REQUIRED_HEADERS)
    parsers: dict[str, Callable[[Any], Any]] = {
        USCC: parse_uscc,
        NAME: _bounded_text(_NAME_MAX, _("The name is longer than %(max)d characters."),
                            required=_("The enterprise name is empty.")),
        DIRECTION: _choice(sheets.choice_terms(Direction, DIRECTION_TERMS), _DIRECTION_WORDS),
        CATEGORY: _choice(sheets.choice_terms(Category, CATEGORY_TERMS), _CATEGORY_WORDS),
        TITLE: _bounded_text(_TITLE_MAX, _("The title is longer than %(max)d characters."),
                             required=_("The title is empty.")),
        DESCRIPTION: _bounded_text(_DESCRIPTION_MAX, _("The description is longer than %(max)d characters."),
                                   multiline=True),
        INDUSTRY: industry_parser(industries.resolver()),
        REGION: cell_text,  # read with the row's USCC as context in parse_sheet (core.regions)
        QUANTITY: _quantity,
        UNIT: _bounded_text(_UNIT_MAX, _("The unit is longer than %(max)d characters.")),
        PRICE: _price,
        VALID_UNTIL: _valid_until(timezone.localdate()),
        EXTERNAL_ID: _external_id,
        SERVICE_AREA: _bounded_text(_AREA_MAX, _("The service area is longer than %(max)d characters.")),
    }  # fmt: skip
    return SheetSpec(
        columns=tuple(Column(header, parsers[header], required=header in required) for header in HEADERS),
        max_rows=MAX_ROWS,
        max_columns=26,
        max_cell_chars=_DESCRIPTION_MAX,
        what=_("resource sheet"),
    )


# --- parsing -----------------------------------------------------------------------------------


def check_file(file_obj: IO[bytes], file_name: str) -> str:
    """Return a file-level error (not .xlsx, too large, empty, not a workbook) or ''."""
    if not file_name.lower().endswith(".xlsx"):
        return _("Only Excel .xlsx files can be imported; save the resource sheet as an Excel workbook (.xlsx).")
    return sheets.check_upload(file_obj, file_name)


def parse_sheet(file_obj: IO[bytes], file_name: str | None = None) -> SheetParse:
    """Read a resource sheet and validate every row in memory, collecting each bad cell's reason."""
    name = sheets.file_name_of(file_obj, file_name)
    result = SheetParse(file_name=name)
    result.file_error = check_file(file_obj, name)
    if result.file_error:
        return result
    sheet = sheets.read_sheet(file_obj, sheet_spec(), name)
    result.file_error = sheet.file_error
    if sheet.file_error:
        return result
    seen_external: dict[str, int] = {}
    names: dict[str, tuple[str, int]] = {}
    region_resolver = regions.resolver()
    for row in sheet.rows:
        result.row_count += 1
        values = row.values
        errors = list(row.errors)
        uscc, name_value, external = values[USCC], values[NAME], values[EXTERNAL_ID] or ""
        region = region_resolver.resolve(values[REGION], [(uscc or "")[2:8]])
        if region.error:
            errors.append(RowError(row.number, REGION, region.error))
        if uscc and name_value:
            first_name, first_row = names.setdefault(uscc, (name_value, row.number))
            if first_name != name_value:
                errors.append(RowError(row.number, NAME,
                              _("Row %(row)d gives the same unified social credit code with the name %(name)s.")
                              % {"row": first_row, "name": first_name}))  # fmt: skip
        if external:
            if external in seen_external:
                errors.append(RowError(row.number, EXTERNAL_ID,
                              _("The external number %(number)s also appears in row %(row)d.")
                              % {"number": external, "row": seen_external[external]}))  # fmt: skip
            else:
                seen_external[external] = row.number
        if errors:
            errors.sort(key=lambda error: HEADERS.index(error.column))
            result.errors.extend(errors)
            continue
        price_text, price_min, price_max = values[PRICE] or ("", None, None)
        valid_until, shortened = values[VALID_UNTIL]
        result.rows.append(
            ListingRow(
                row=row.number, uscc=uscc, name=name_value, direction=values[DIRECTION], category=values[CATEGORY],
                title=values[TITLE], description=values[DESCRIPTION] or "", industry_id=values[INDUSTRY],
                region_id=region.code, quantity=values[QUANTITY], unit=values[UNIT] or "", price_min=price_min,
                price_max=price_max, price_text=price_text, valid_until=valid_until, external_id=external,
                service_area=values[SERVICE_AREA] or "", was_shortened=shortened,
            )
        )  # fmt: skip
    return result


# --- importing ---------------------------------------------------------------------------------


@dataclass
class _Plan:
    new_enterprises: list[ListingRow] = field(default_factory=list)  # one row per new USCC (its first)
    new_memberships: list[str] = field(default_factory=list)  # USCCs
    creates: list[ListingRow] = field(default_factory=list)
    updates: list[tuple[int, ListingRow, dict[str, Any], str]] = field(default_factory=list)


def _plan(rows: list[ListingRow], result: ListingImportResult, as_members: bool) -> tuple[_Plan, dict[str, int]]:
    plan = _Plan()
    enterprises = org_services.existing_enterprises([row.uscc for row in rows])
    seen_new: set[str] = set()
    for row in rows:
        if row.uscc not in enterprises and row.uscc not in seen_new:
            seen_new.add(row.uscc)
            plan.new_enterprises.append(row)
            if as_members:
                plan.new_memberships.append(row.uscc)

    # Existing listings of existing enterprises: by external number, else by direction + category + title.
    by_number: dict[tuple[int, str], dict[str, Any]] = {}
    by_title: dict[tuple[int, str, str, str], dict[str, Any]] = {}
    wanted = ["pk", "enterprise_id", "external_id", "status", "direction", *COMPARED]
    for chunk in sheets.chunks(list(enterprises.values())):
        for values in Listing.objects.filter(enterprise_id__in=chunk).values(*wanted):
            if values["external_id"]:
                by_number[(values["enterprise_id"], values["external_id"])] = values
            elif values["status"] != Listing.Status.CLOSED:
                by_title.setdefault(
                    (values["enterprise_id"], values["direction"], values["category"], values["title"]), values
                )
    for row in rows:
        if row.was_shortened:
            result.validity_shortened += 1
        enterprise_id = enterprises.get(row.uscc)
        current = None
        if enterprise_id is not None:
            if row.external_id:
                current = by_number.get((enterprise_id, row.external_id))
            else:
                current = by_title.get((enterprise_id, row.direction, row.category, row.title))
        if current is None:
            plan.creates.append(row)
            continue
        changes = {name: value for name, value in row.values().items() if name != "direction"}
        changes = {name: value for name, value in changes.items() if current[name] != value}
        if current["direction"] != row.direction:
            result.errors.append(
                RowError(
                    row.row, DIRECTION,
                    _("Listing %(number)s was imported as %(direction)s; an offer cannot become a need or the "
                      "other way round. Give it a new external number.")
                    % {"number": row.external_id or row.title, "direction": Direction(current["direction"]).label},
                )
            )  # fmt: skip
        elif not changes:
            result.listings_unchanged += 1
        elif current["status"] == Listing.Status.CLOSED:
            result.errors.append(
                RowError(
                    row.row, EXTERNAL_ID,
                    _("Listing %(number)s is closed and cannot be changed; give it a new external number.")
                    % {"number": row.external_id},
                )
            )  # fmt: skip
        else:
            plan.updates.append((current["pk"], row, changes, current["status"]))
    return plan, enterprises


@transaction.atomic
def import_listings(
    *,
    actor: Any,
    organization: Organization,
    parsed: SheetParse,
    draft: bool = False,
    dry_run: bool = False,
    as_members: bool = False,
    suggest: bool = False,
    source: str = "cli",
) -> ListingImportResult:
    """Import a parsed resource sheet, all or nothing; imported listings are published unless `draft`.

    Enterprises new to the platform are recorded by `organization` as non-members (members with
    `as_members`). Each listing is reviewed by its enterprise's deepest active membership, else by the
    organisation that recorded it. With `suggest`, match suggestions are stored after commit by one
    background task per chunk of listings.
    """
    require(actor, CHANGE, organization, _("You may not import listings for this organisation."))
    if parsed.file_error:
        raise DomainError(parsed.file_error, code="sheet_file")
    result = ListingImportResult(rows=parsed.row_count, dry_run=dry_run)
    result.errors.extend(parsed.errors)
    if not dry_run:
        # One import at a time per organisation: the second waits and then sees the first one's rows.
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
    plan, enterprises = _plan(parsed.rows, result, as_members)
    result.errors.sort(key=lambda error: (error.row, HEADERS.index(error.column)))
    result.enterprises_created = len(plan.new_enterprises)
    result.memberships_created = len(plan.new_memberships)
    result.listings_created = len(plan.creates)
    result.listings_updated = len(plan.updates)
    if result.errors or dry_run:
        return result
    if not (plan.creates or plan.updates):
        return result  # nothing changes: no audit entry for nothing
    try:
        with transaction.atomic():
            _write(actor, organization, plan, enterprises, draft, as_members, result)
    except IntegrityError as exc:
        raise DomainError(
            _("Someone changed the same listings while the sheet was being imported; import it again."),
            code="sheet_conflict",
        ) from exc
    audit.record(
        "exchange.listings.imported",
        actor=actor,
        target=organization,
        organization_id=organization.pk,
        data={"file": parsed.file_name, "source": source, "draft": draft, "as_members": as_members,
              **result.counts()},
    )  # fmt: skip
    result.written = True
    if suggest and not draft:
        for chunk in sheets.chunks(result.listing_ids, SUGGEST_CHUNK):
            enqueue_on_commit("exchange.suggest_matches", chunk)
    return result


def _write(
    actor: Any,
    organization: Organization,
    plan: _Plan,
    enterprises: dict[str, int],
    draft: bool,
    as_members: bool,
    result: ListingImportResult,
) -> None:
    now = timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    records = [
        org_services.EnterpriseRecord(uscc=row.uscc, name=row.name, industry_id=row.industry_id,
                                      region_id=row.region_id)
        for row in plan.new_enterprises
    ]  # fmt: skip
    enterprises.update(
        org_services.record_enterprises(actor=actor, organization=organization, records=records, as_members=as_members)
    )
    reviewers = reviewing_organizations(list(dict.fromkeys(enterprises[row.uscc] for row in plan.creates)))

    status = Listing.Status.DRAFT if draft else Listing.Status.PUBLISHED
    listings = []
    for row in plan.creates:
        enterprise_id = enterprises[row.uscc]
        listings.append(
            Listing(
                enterprise_id=enterprise_id, organization_id=reviewers.get(enterprise_id, organization.pk),
                external_id=row.external_id, status=status, published_at=None if draft else now, created_by=user,
                search_tokens=index_tokens(f"{row.title} {row.description}"), **row.values(),
            )
        )  # fmt: skip
    created = Listing.objects.bulk_create(listings, batch_size=_BATCH)  # SQLite and PostgreSQL return the ids
    history = [ListingStatusChange(listing_id=listing.pk, from_status="", to_status=Listing.Status.DRAFT,
                                   actor=user, note=_("Imported")) for listing in created]  # fmt: skip
    if not draft:
        history += [
            ListingStatusChange(listing_id=listing.pk, from_status=Listing.Status.DRAFT,
                                to_status=Listing.Status.PUBLISHED, actor=user, note=_("Imported"))
            for listing in created
        ]  # fmt: skip
    result.listing_ids = [listing.pk for listing in created]

    for pk, row, changes, current_status in plan.updates:
        fields: dict[str, Any] = dict(changes)
        fields["search_tokens"] = index_tokens(f"{row.title} {row.description}")
        if TEXT_FIELDS & set(changes):
            fields["embedding"] = None  # re-embedded by index_listings / the engine's sync
        fields["updated_at"] = now
        if current_status == Listing.Status.EXPIRED and not draft:
            fields.update(status=Listing.Status.PUBLISHED, published_at=now, closed_at=None)
            history.append(
                ListingStatusChange(
                    listing_id=pk, from_status=current_status, to_status=Listing.Status.PUBLISHED, actor=user,
                    note=_("Imported"),
                )
            )  # fmt: skip
        Listing.objects.filter(pk=pk).update(**fields)
        result.listing_ids.append(pk)
    ListingStatusChange.objects.bulk_create(history, batch_size=_BATCH)


def index_listings(
    listing_ids: list[int], *, batch_size: int = 64, progress: Callable[[int, int], None] | None = None
) -> int:
    """Embed the published listings among these that have no vector yet, in batches; return how many.

    A process whose matching engine is already loaded syncs the rows in; new processes build or sync
    from the database (`matching_service.get_engine`), so nothing else is needed for `manage.py match`.
    """
    missing: list[int] = []
    for chunk in sheets.chunks(listing_ids):
        missing += list(
            Listing.objects.filter(pk__in=chunk, status=Listing.Status.PUBLISHED, embedding__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    done = 0
    for start in range(0, len(missing), batch_size):
        done += matching_service.store_embeddings(missing[start : start + batch_size])
        if progress is not None:
            progress(done, len(missing))
    matching_service.sync()  # no-op unless this process already holds an engine
    return done


def error_lines(errors: list[RowError]) -> list[str]:
    """Return the errors as 'Row N [column] reason' lines in the active language."""
    return [str(error) for error in errors]
