"""Template helpers of the roster UI."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from qiaoliang.core.permissions import has_capability
from qiaoliang.core.templatetags.qiaoliang import status_class

register = template.Library()


@register.simple_tag(takes_context=True)
def may_import_roster(context: template.Context) -> bool:
    """Tell whether the current user may import a roster: {% may_import_roster as ok %}."""
    request: Any = context.get("request")
    return request is not None and has_capability(request.user, "orgs.import_roster")


_DIRECTORY_ROW = (
    '<tr><td><a class="fw-medium" href="{url}">{name}</a><div class="small text-muted font-monospace">{uscc}</div>'
    '<div class="small d-md-none mt-1">{phone_industry}{phone_memberships}{phone_contact}</div></td>'
    '<td class="d-none d-md-table-cell small">{industry}</td>'
    '<td class="d-none d-lg-table-cell small">{region}</td>'
    '<td class="d-none d-md-table-cell text-nowrap">{size}</td>'
    '<td class="d-none d-md-table-cell small">{memberships}</td>'
    '<td class="d-none d-sm-table-cell small text-nowrap">{contact}</td></tr>'
)

_LEVEL_BADGE = '{} <span class="badge level-badge level-{}">{}</span>'


@register.simple_tag
def directory_rows(rows: list[dict[str, Any]]) -> SafeString:
    """Render the directory's table rows from `orgs.selectors.directory_rows` (with `url` added by the view).

    Written out here rather than in a template: 50 rows through the template engine took about 20 ms of a page's
    time, this takes under 2 ms. Every value is escaped by format_html.
    """
    dash = "—"
    out: list[str] = []
    for row in rows:
        memberships = row["memberships"]
        badges = [format_html(_LEVEL_BADGE, m["organization"], m["level"], m["level_label"]) for m in memberships]
        wide = [
            format_html(
                '<div class="text-nowrap">{}{}</div>', badge,
                "" if m["active"] else format_html(
                    ' <span class="badge rounded-pill {}" data-testid="status-{}">{}</span>',
                    status_class(m["status"]), m["status"], m["status_label"],
                ),
            )
            for badge, m in zip(badges, memberships, strict=True)
        ]  # fmt: skip
        size = row["size"]
        industry = row["industry_name"]
        out.append(format_html(
            _DIRECTORY_ROW, url=row["url"], name=row["name"], uscc=row["uscc"],
            phone_industry=format_html(
                '<div class="text-muted">{}{}</div>', industry, format_html(" · {}", size) if size else ""
            ) if industry else "",
            phone_memberships=mark_safe("".join(format_html("<div>{}</div>", b) for b in badges)),  # noqa: S308
            phone_contact=format_html(
                '<div class="d-sm-none">{} <span class="font-monospace">{}</span></div>', row["contact"], row["mobile"]
            ) if row["has_contact"] else "",
            industry=format_html('<span class="text-muted">{}</span> {}', row["industry_code"], industry)
            if industry else dash,
            region=row["region"] or dash, size=size or dash,
            memberships=mark_safe("".join(wide)) if wide else dash,  # noqa: S308
            contact=format_html(
                '{}<div class="font-monospace" data-testid="contact-mobile">{}</div>', row["contact"], row["mobile"]
            ) if row["has_contact"] else dash,
        ))  # fmt: skip
    return mark_safe("".join(out))  # noqa: S308 - every part went through format_html
