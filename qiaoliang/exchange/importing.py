"""The resource sheet (资源信息) importer: offers and needs collected before a 资源信息交流会, all or nothing.

It reuses the roster importer's machinery (`qiaoliang.orgs.roster`): the file checks, the streaming xlsx
reader with openpyxl as fallback, cell helpers and "Row N [column] reason" errors. Every row is checked in
memory; the database is then asked a few chunked questions (which enterprises, memberships and listings
exist) and written with bulk inserts inside one transaction, with one audit entry.

Re-importing: a row is matched to an existing listing by enterprise + 外部编号 (rows without a number by
enterprise + direction + category + title). An identical row is skipped; a changed row updates the listing
in place (its status stays; an expired listing with a new date is published again unless --draft); a row
whose listing was closed, or that would turn an offer into a need, is an error.

Embeddings are computed after the import in batches (`index_listings`); the matching engine of any process
picks the rows up by `updated_at` (`matching_service.sync`).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.core import audit
from qiaoliang.core.codes import normalize_uscc
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.models import Industry, Region
from qiaoliang.exchange.models import Category, Direction, Listing, ListingStatusChange
from qiaoliang.exchange.search import index_tokens
from qiaoliang.orgs import roster
from qiaoliang.orgs.models import Enterprise, Membership, Organization
from qiaoliang.orgs.roster import RowError

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
HEADERS = [USCC, NAME, DIRECTION, CATEGORY, TITLE, DESCRIPTION, INDUSTRY, REGION, QUANTITY, UNIT, PRICE,
           VALID_UNTIL, EXTERNAL_ID]  # fmt: skip
REQUIRED_HEADERS = [USCC, NAME, DIRECTION, CATEGORY, TITLE, VALID_UNTIL]

MAX_ROWS = 50_000
MAX_VALIDITY = datetime.timedelta(days=366 * 2)  # as services._validate: two years at the most
_BATCH = 1000

DIRECTION_TERMS = {"供": "offer", "供应": "offer", "供给": "offer", "提供": "offer", "需": "need", "需求": "need",
                   "求": "need", "求购": "need"}  # fmt: skip
CATEGORY_TERMS = {"项目": "project", "业务": "business", "技术": "technology", "服务": "service", "人才": "talent",
                  "资金": "capital", "物资": "material"}  # fmt: skip

_DIRECTION_WORDS = "供、需、offer、need"
_CATEGORY_WORDS = "、".join(CATEGORY_TERMS) + " / " + ", ".join(Category.values)
_NAME_MAX = Enterprise._meta.get_field("name").max_length or 120
_TITLE_MAX = Listing._meta.get_field("title").max_length or 120
_DESCRIPTION_MAX = Listing._meta.get_field("description").max_length or 5000
_UNIT_MAX = Listing._meta.get_field("unit").max_length or 20
_PRICE_TEXT_MAX = Listing._meta.get_field("price_text").max_length or 40
_EXTERNAL_MAX = Listing._meta.get_field("external_id").max_length or 60
_QUANTITY_LIMIT = Decimal("1e12")  # DecimalField(max_digits=14, decimal_places=2)
_PRICE_LIMIT = Decimal("1e14")  # DecimalField(max_digits=16, decimal_places=2)
# Fields compared on re-import (a difference in any of them updates the listing).
COMPARED = ["category", "title", "description", "industry_id", "region_id", "quantity", "unit", "price_min",
            "price_max", "price_text", "valid_until"]  # fmt: skip
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
        }


@dataclass
class SheetParse:
    """What a resource sheet holds: its rows, the errors in them, or one error about the whole file."""

    file_name: str = ""
    rows: list[ListingRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    row_count: int = 0

    @property
    def is_valid(self) -> bool:
        return not self.file_error and not self.errors


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


# --- parsing -----------------------------------------------------------------------------------


@dataclass
class _Vocabulary:
    industries: set[str]
    regions: set[str]
    directions: dict[str, str]
    categories: dict[str, str]


def _vocabulary() -> _Vocabulary:
    return _Vocabulary(
        industries=set(Industry.objects.values_list("code", flat=True)),
        regions=set(Region.objects.values_list("code", flat=True)),
        directions=roster._choice_terms(Direction, DIRECTION_TERMS),
        categories=roster._choice_terms(Category, CATEGORY_TERMS),
    )


def check_file(file_obj: IO[bytes], file_name: str) -> str:
    """Return a file-level error (not .xlsx, too large, empty, not a workbook) or ''."""
    if not file_name.lower().endswith(".xlsx"):
        return _("Only Excel .xlsx files can be imported; save the resource sheet as an Excel workbook (.xlsx).")
    return roster.check_file(file_obj, file_name)


def _header_error(header_row: tuple[Any, ...] | None) -> tuple[str, dict[str, int]]:
    """Return (error, {header: column index}); optional columns may be left out, unknown ones may not."""
    if header_row is None:
        return _("The workbook has no header row; the first row must hold the column names."), {}
    positions, unknown, duplicated = roster.header_positions(header_row, HEADERS)
    missing = [header for header in REQUIRED_HEADERS if header not in positions]
    if missing:
        return _("These columns are missing: %(columns)s.") % {"columns": "、".join(missing)}, positions
    if unknown:
        return _("These columns are not part of the resource sheet: %(columns)s. The columns are: %(headers)s.") % {
            "columns": "、".join(unknown),
            "headers": "、".join(HEADERS),
        }, positions
    if duplicated:
        return _("These columns appear more than once: %(columns)s.") % {"columns": "、".join(duplicated)}, positions
    return "", positions


def parse_sheet(file_obj: IO[bytes], file_name: str | None = None) -> SheetParse:
    """Read a resource sheet and validate every row in memory, collecting each bad cell's reason."""
    name = file_name if file_name is not None else str(getattr(file_obj, "name", "") or "")
    result = SheetParse(file_name=name.replace("\\", "/").rsplit("/", 1)[-1])
    result.file_error = check_file(file_obj, name)
    if result.file_error:
        return result
    vocabulary = _vocabulary()
    parsed = roster.read_sheet(
        file_obj,
        lambda: SheetParse(file_name=result.file_name),
        lambda rows, attempt: _parse_rows(rows, attempt, vocabulary),
    )
    if parsed is not None:
        return parsed
    result.file_error = _("The file could not be read as an Excel workbook; it may be damaged.")
    return result


def _parse_rows(rows: Iterator[tuple[int, tuple[Any, ...]]], result: SheetParse, vocabulary: _Vocabulary) -> None:
    today = timezone.localdate()
    first = next(rows, None)
    result.file_error, positions = _header_error(first[1] if first else None)
    if result.file_error:
        return
    seen_external: dict[str, int] = {}
    names: dict[str, tuple[str, int]] = {}
    for number, values in rows:
        cells = {header: values[index] if index < len(values) else None for header, index in positions.items()}
        if all(roster._text(value) == "" for value in cells.values()):
            continue
        result.row_count += 1
        if result.row_count > MAX_ROWS:
            result.file_error = _("The sheet has more than %(count)d rows; split it into smaller files.") % {
                "count": MAX_ROWS
            }
            result.rows, result.errors, result.row_count = [], [], 0
            return
        row = _parse_row(number, cells, vocabulary, today, seen_external, names, result.errors)
        if row is not None:
            result.rows.append(row)


def _parse_row(
    number: int,
    cells: dict[str, Any],
    vocabulary: _Vocabulary,
    today: datetime.date,
    seen_external: dict[str, int],
    names: dict[str, tuple[str, int]],
    errors: list[RowError],
) -> ListingRow | None:
    """Validate one row; append its errors and return the row only when it has none."""
    found: list[RowError] = []

    def fail(column: str, message: str) -> None:
        found.append(RowError(number, column, message))

    def text(column: str) -> str:
        return roster._text(cells.get(column))

    uscc = ""
    raw_uscc = cells.get(USCC)
    try:
        uscc = normalize_uscc(unicodedata.normalize("NFKC", raw_uscc) if isinstance(raw_uscc, str) else raw_uscc)
    except ValidationError as exc:
        fail(USCC, exc.messages[0])

    name = " ".join(text(NAME).split())
    if not name:
        fail(NAME, _("The enterprise name is empty."))
    elif len(name) > _NAME_MAX:
        fail(NAME, _("The name is longer than %(max)d characters.") % {"max": _NAME_MAX})
    elif uscc:
        first_name, first_row = names.setdefault(uscc, (name, number))
        if first_name != name:
            fail(
                NAME,
                _("Row %(row)d gives the same unified social credit code with the name %(name)s.")
                % {"row": first_row, "name": first_name},
            )

    direction = _choice(text(DIRECTION), vocabulary.directions, DIRECTION, fail, _DIRECTION_WORDS)
    category = _choice(text(CATEGORY), vocabulary.categories, CATEGORY, fail, _CATEGORY_WORDS)

    title = " ".join(text(TITLE).split())
    if not title:
        fail(TITLE, _("The title is empty."))
    elif len(title) > _TITLE_MAX:
        fail(TITLE, _("The title is longer than %(max)d characters.") % {"max": _TITLE_MAX})
    description = text(DESCRIPTION)
    if len(description) > _DESCRIPTION_MAX:
        fail(DESCRIPTION, _("The description is longer than %(max)d characters.") % {"max": _DESCRIPTION_MAX})

    industry = roster._code(cells.get(INDUSTRY))
    if industry and industry not in vocabulary.industries:
        # A class code typed into a number cell loses its leading zero (0111 → 111).
        padded = industry.zfill(len(industry) + 1) if industry.isdigit() else ""
        if padded in vocabulary.industries and not isinstance(cells.get(INDUSTRY), str):
            industry = padded
        else:
            fail(INDUSTRY, _("%(code)s is not a GB/T 4754-2017 industry code.") % {"code": industry})
    region = roster._code(cells.get(REGION))
    if region and region not in vocabulary.regions:
        fail(REGION, _("%(code)s is not a six-digit GB/T 2260 region code.") % {"code": region})

    quantity = _quantity(cells.get(QUANTITY), fail)
    unit = text(UNIT)
    if len(unit) > _UNIT_MAX:
        fail(UNIT, _("The unit is longer than %(max)d characters.") % {"max": _UNIT_MAX})

    price_text = " ".join(unicodedata.normalize("NFKC", text(PRICE)).split()) if text(PRICE) else ""
    price_min = price_max = None
    if len(price_text) > _PRICE_TEXT_MAX:
        fail(PRICE, _("The price or budget is longer than %(max)d characters.") % {"max": _PRICE_TEXT_MAX})
    elif price_text:
        price_min, price_max = parse_price(price_text)
        if any(value is not None and value >= _PRICE_LIMIT for value in (price_min, price_max)):
            fail(PRICE, _("%(value)s is too large an amount.") % {"value": price_text})
            price_min = price_max = None

    valid_until, was_shortened = _valid_until(cells.get(VALID_UNTIL), today, fail)

    external_id = unicodedata.normalize("NFKC", text(EXTERNAL_ID)).strip()
    if len(external_id) > _EXTERNAL_MAX:
        fail(EXTERNAL_ID, _("The external number is longer than %(max)d characters.") % {"max": _EXTERNAL_MAX})
    elif external_id:
        if external_id in seen_external:
            fail(
                EXTERNAL_ID,
                _("The external number %(number)s also appears in row %(row)d.")
                % {"number": external_id, "row": seen_external[external_id]},
            )
        else:
            seen_external[external_id] = number

    if found:
        errors.extend(found)
        return None
    return ListingRow(
        row=number, uscc=uscc, name=name, direction=direction, category=category, title=title,
        description=description, industry_id=industry or None, region_id=region or None, quantity=quantity,
        unit=unit, price_min=price_min, price_max=price_max, price_text=price_text, valid_until=valid_until,
        external_id=external_id, was_shortened=was_shortened,
    )  # fmt: skip


def _choice(value: str, terms: dict[str, str], column: str, fail: Callable[[str, str], None], accepted: str) -> str:
    if not value:
        fail(column, _("The cell is empty; write one of %(values)s.") % {"values": accepted})
        return ""
    choice = terms.get(unicodedata.normalize("NFKC", value).strip().lower())
    if choice is None:
        fail(
            column,
            _("%(value)s is not an accepted value; write one of %(values)s.") % {"value": value, "values": accepted},
        )
        return ""
    return choice


def _quantity(value: Any, fail: Callable[[str, str], None]) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        fail(QUANTITY, _("%(value)s is not a number.") % {"value": value})
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        fail(QUANTITY, _("%(value)s is not a number.") % {"value": roster._text(value)})
        return None
    if not number.is_finite():
        fail(QUANTITY, _("%(value)s is not a number.") % {"value": roster._text(value)})
        return None
    if number < 0:
        fail(QUANTITY, _("Quantities and prices cannot be negative."))
        return None
    if number >= _QUANTITY_LIMIT:
        fail(QUANTITY, _("%(value)s is too large a quantity.") % {"value": roster._text(value)})
        return None
    return number.quantize(Decimal("0.01"))


def _valid_until(
    value: Any, today: datetime.date, fail: Callable[[str, str], None]
) -> tuple[datetime.date | None, bool]:
    """Return the date and whether it was shortened to the two-year limit."""
    if value is None or (isinstance(value, str) and not value.strip()):
        fail(VALID_UNTIL, _("The date is empty; write until when the listing is valid as YYYY-MM-DD."))
        return None, False
    date: datetime.date | None = None
    if isinstance(value, datetime.datetime):
        date = value.date()
    elif isinstance(value, datetime.date):
        date = value
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        for pattern in roster._DATE_FORMATS:
            try:
                date = datetime.datetime.strptime(text, pattern).date()
                break
            except ValueError:
                continue
    if date is None:
        fail(VALID_UNTIL, _("%(value)s is not a date; write it as YYYY-MM-DD.") % {"value": roster._text(value)})
        return None, False
    if date < today:
        fail(VALID_UNTIL, _("The date %(date)s has passed; the listing would be expired.") % {"date": date.isoformat()})
        return None, False
    if date > today + MAX_VALIDITY:
        # Listings are valid for two years at the most (services._validate); a sheet collected with a later
        # date is taken at the limit rather than refused, and the import says how many were shortened.
        return today + MAX_VALIDITY, True
    return date, False


# --- importing ---------------------------------------------------------------------------------


@dataclass
class _Plan:
    new_enterprises: list[ListingRow] = field(default_factory=list)  # one row per new USCC (its first)
    new_memberships: list[str] = field(default_factory=list)  # USCCs
    creates: list[ListingRow] = field(default_factory=list)
    updates: list[tuple[int, ListingRow, dict[str, Any], str]] = field(
        default_factory=list
    )  # (pk, row, changes, status)


def _reviewing_organizations(enterprise_ids: list[int]) -> dict[int, int]:
    """Return {enterprise id: organisation id} of each enterprise's deepest active membership."""
    chosen: dict[int, tuple[int, str, int]] = {}
    for chunk in roster._chunks(enterprise_ids):
        memberships = Membership.objects.filter(enterprise_id__in=chunk, status=Membership.Status.ACTIVE).values_list(
            "enterprise_id", "organization_id", "organization__depth", "organization__path"
        )
        for enterprise_id, organization_id, depth, path in memberships:
            key = (-depth, path, organization_id)
            if enterprise_id not in chosen or key < chosen[enterprise_id]:
                chosen[enterprise_id] = key
    return {enterprise_id: key[2] for enterprise_id, key in chosen.items()}


def _plan(
    rows: list[ListingRow], organization: Organization, result: ListingImportResult
) -> tuple[_Plan, dict[str, int], dict[int, int]]:
    plan = _Plan()
    usccs = list(dict.fromkeys(row.uscc for row in rows))
    enterprises: dict[str, int] = {}
    for chunk in roster._chunks(usccs):
        enterprises.update(Enterprise.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    reviewers = _reviewing_organizations(list(enterprises.values()))
    in_target: set[int] = set()
    for chunk in roster._chunks(list(enterprises.values())):
        in_target.update(
            Membership.objects.filter(organization=organization, enterprise_id__in=chunk).values_list(
                "enterprise_id", flat=True
            )
        )
    seen_new: set[str] = set()
    for row in rows:
        enterprise_id = enterprises.get(row.uscc)
        if enterprise_id is None:
            if row.uscc not in seen_new:
                seen_new.add(row.uscc)
                plan.new_enterprises.append(row)
                plan.new_memberships.append(row.uscc)
        elif enterprise_id not in reviewers and row.uscc not in seen_new:
            seen_new.add(row.uscc)
            if enterprise_id in in_target:  # a member of the target that left: do not bring it back silently
                result.errors.append(
                    RowError(row.row, USCC, _("The enterprise is not an active member of any organisation."))
                )
            else:
                plan.new_memberships.append(row.uscc)

    # Existing listings of existing enterprises: by external number, else by direction + category + title.
    by_number: dict[tuple[int, str], dict[str, Any]] = {}
    by_title: dict[tuple[int, str, str, str], dict[str, Any]] = {}
    wanted = ["pk", "enterprise_id", "external_id", "status", "direction", *COMPARED]
    for chunk in roster._chunks(list(enterprises.values())):
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
    return plan, enterprises, reviewers


@transaction.atomic
def import_listings(
    *,
    actor: Any,
    organization: Organization,
    parsed: SheetParse,
    draft: bool = False,
    dry_run: bool = False,
    source: str = "cli",
) -> ListingImportResult:
    """Import a parsed resource sheet, all or nothing; imported listings are published unless `draft`.

    New enterprises (valid name and USCC) are created and made members of `organization`; each listing is
    reviewed by its enterprise's deepest active membership (the new ones: `organization`).
    """
    if parsed.file_error:
        raise DomainError(parsed.file_error, code="sheet_file")
    result = ListingImportResult(rows=parsed.row_count, dry_run=dry_run)
    result.errors.extend(parsed.errors)
    if not dry_run:
        # One import at a time per organisation: the second waits and then sees the first one's rows.
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
    plan, enterprises, reviewers = _plan(parsed.rows, organization, result)
    result.errors.sort(key=lambda error: (error.row, HEADERS.index(error.column)))
    result.enterprises_created = len(plan.new_enterprises)
    result.memberships_created = len(plan.new_memberships)
    result.listings_created = len(plan.creates)
    result.listings_updated = len(plan.updates)
    if result.errors or dry_run:
        return result
    try:
        with transaction.atomic():
            _write(actor, organization, plan, enterprises, reviewers, draft, result)
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
        data={"file": parsed.file_name, "source": source, "draft": draft, **result.counts()},
    )
    result.written = True
    return result


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _write(
    actor: Any,
    organization: Organization,
    plan: _Plan,
    enterprises: dict[str, int],
    reviewers: dict[int, int],
    draft: bool,
    result: ListingImportResult,
) -> None:
    now = timezone.now()
    user = _user(actor)
    Enterprise.objects.bulk_create(
        [
            Enterprise(uscc=row.uscc, name=row.name, industry_id=row.industry_id, region_id=row.region_id,
                       **roster.search_fields(row.name))
            for row in plan.new_enterprises
        ],
        batch_size=_BATCH,
    )  # fmt: skip
    for chunk in roster._chunks([row.uscc for row in plan.new_enterprises]):
        enterprises.update(Enterprise.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    Membership.objects.bulk_create(
        [
            Membership(enterprise_id=enterprises[uscc], organization=organization, status=Membership.Status.ACTIVE)
            for uscc in plan.new_memberships
        ],
        batch_size=_BATCH,
    )
    for uscc in plan.new_memberships:
        reviewers[enterprises[uscc]] = organization.pk

    status = Listing.Status.DRAFT if draft else Listing.Status.PUBLISHED
    listings = []
    for row in plan.creates:
        enterprise_id = enterprises[row.uscc]
        listings.append(
            Listing(
                enterprise_id=enterprise_id, organization_id=reviewers[enterprise_id], external_id=row.external_id,
                status=status, published_at=None if draft else now, created_by=user,
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
    from qiaoliang.exchange import matching_service

    missing: list[int] = []
    for chunk in roster._chunks(listing_ids):
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
    return roster.error_lines(errors)
