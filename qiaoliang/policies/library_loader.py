"""Load the annotated Zhejiang policies (data/zj) into a library: documents, clauses, support items and rules.

Used by `manage.py load_policy_rules` (the demo library, and the check that every dev rule loads) and by the
tests. Each loaded rule carries the test cases `witness.cases_for` builds from its conditions.
"""

from __future__ import annotations

import csv
import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from qiaoliang.core import audit
from qiaoliang.core.models import Region
from qiaoliang.core.text import compact_text
from qiaoliang.orgs.models import Organization
from qiaoliang.policies import dev_rules, witness
from qiaoliang.policies.models import Clause, Policy, Rule, RuleTestCase, SupportItem
from qiaoliang.policies.services.decisions import parse_rule, threshold_book

DATA = dev_rules.DATA
LEVEL_WORDS = (("国务院", "national"), ("部", "national"), ("省", "provincial"), ("市", "municipal"),
               ("区", "county"), ("县", "county"))  # fmt: skip


@dataclass
class LoadReport:
    policies: int = 0
    items: int = 0
    rules: int = 0
    test_cases: int = 0
    summary: dict[str, Any] = field(default_factory=dict)
    refused: list[dev_rules.Loaded] = field(default_factory=list)


def _read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _date(text: str) -> datetime.date | None:
    match = re.search(r"(20\d\d|19\d\d)\D{0,2}(\d{1,2})\D{0,2}(\d{1,2})", text)
    if not match:
        return None
    try:
        return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _title(name: str) -> str:
    return re.sub(r"_\d{10,}\.(pdf|docx?|html?|txt|wps)$", "", name).strip()[:200] or name[:200]


def load(*, organization: Organization, actor: Any = None, publish: bool = True, on_year: int | None = None,
         uids: set[str] | None = None) -> LoadReport:  # fmt: skip
    """Create the policies of the dev split with their items and rules; return what loaded and what did not."""
    today = timezone.localdate()
    on_year = on_year or today.year
    as_of = today if on_year == today.year else datetime.date(on_year, 6, 30)  # the test cases' reference day
    book = threshold_book()
    loaded = dev_rules.load_all(book)
    report = LoadReport(summary=dev_rules.summary(loaded), refused=[r for r in loaded if not r.expression])
    names = {row["uid"]: _title(row["policy_name"]) for row in _read("policies.csv")}
    sentences: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _read("policy_sentences_dev.csv"):
        sentences[row["uid"]].append(row)
    entities: dict[str, dict[str, str]] = defaultdict(dict)
    for row in _read("policy_entities.csv"):
        entities[row["sid"].split("_")[0]].setdefault(row.get("entity_type", ""), row["entity"])
    by_uid: dict[str, list[dev_rules.Loaded]] = defaultdict(list)
    for rule in loaded:
        if rule.expression and (uids is None or rule.uid in uids):
            by_uid[rule.uid].append(rule)
    now = timezone.now()
    with transaction.atomic():
        for uid, rules in sorted(by_uid.items(), key=lambda kv: int(kv[0])):
            meta = entities.get(uid, {})
            issuer = meta.get("制定部门", "")
            level = next((lvl for word, lvl in LEVEL_WORDS if word in issuer), "municipal")
            region_code = dev_rules.policy_jurisdiction(uid)
            policy = Policy.objects.create(
                organization=organization, region=Region.objects.filter(code=region_code).first(),
                title=names.get(uid, f"政策 {uid}"), issuer=issuer[:200],
                document_number=meta.get("政策文号", "")[:80], level=level, issued_on=_date(meta.get("发布时间", "")),
                summary=f"浙江省政策标注数据集（开发集）政策 {uid}", source_url="",
                full_text="\n".join(s["sentence"] for s in sentences.get(uid, []))[:200_000],
                status=Policy.Status.PUBLISHED if publish else Policy.Status.DRAFT,
                published_at=now if publish else None,
            )  # fmt: skip
            policy.search_text = compact_text(f"{policy.title} {policy.issuer} {policy.document_number}")[:2000]
            policy.save(update_fields=["search_text"])
            clause_rows = [
                Clause(policy=policy, position=index, text=row["sentence"][:5000], clause_type=row["sentence_type"],
                       type_confirmed=True)
                for index, row in enumerate(sentences.get(uid, []), 1)
            ]  # fmt: skip
            Clause.objects.bulk_create(clause_rows)
            clause_of = {row["sid"]: clause for row, clause in zip(sentences.get(uid, []), clause_rows, strict=True)}
            report.policies += 1
            used: dict[str, int] = {}
            for position, dev_rule in enumerate(rules, 1):
                first_sid = f"{uid}_{dev_rule.logic.split('_')[0].strip()}"
                clause = clause_of.get(first_sid)
                expression = _with_clause(dev_rule.expression or {}, clause)
                name = dev_rule.name
                if name == f"支持事项 {dev_rule.logic}" and clause is not None:  # no name annotated: its clause's
                    name = clause_title(clause.text) or name
                    used[name] = used.get(name, 0) + 1
                    if used[name] > 1:  # several items of one clause: numbered
                        name = f"{name}（{used[name]}）"
                item = SupportItem.objects.create(
                    policy=policy, name=name[:200], position=position, clause=clause,
                    benefit=(clause.text[:2000] if clause else dev_rule.name),
                )  # fmt: skip
                stored = Rule.objects.create(item=item, version=1, expression=expression, status=Rule.Status.ACTIVE,
                                           clause=clause, note=f"dev logic {dev_rule.logic}")  # fmt: skip
                # the cases answer the rule as enterprises get it: with the policy's region (parse_rule)
                cases = witness.cases_for(parse_rule(stored, book), on_year=on_year, thresholds=book)
                RuleTestCase.objects.bulk_create([RuleTestCase(rule=stored, as_of=as_of, **case) for case in cases])
                report.items += 1
                report.rules += 1
                report.test_cases += len(cases)
        audit.record("policies.library.loaded", actor=actor, target=organization, organization_id=organization.pk,
                     data={"policies": report.policies, "rules": report.rules})  # fmt: skip
    return report


_NUMBERING_RE = re.compile(r"^\s*(?:[（(]?[一二三四五六七八九十\d]+[)）、.．]\s*|第[一二三四五六七八九十百\d]+条\s*)+")


def clause_title(text: str, limit: int = 40) -> str:
    """A short name from a clause: without its numbering, up to its first comma (对新认定的国家级企业技术中心…)."""
    body = _NUMBERING_RE.sub("", text).strip()
    head = re.split(r"[，,；;。：:]", body, maxsplit=1)[0].strip()
    return head if len(head) <= limit else head[: limit - 1] + "…"


def _with_clause(expression: dict[str, Any], clause: Clause | None) -> dict[str, Any]:
    if clause is None:
        return expression
    return {**expression, "all": [[{**c, "clause": clause.pk} for c in group] for group in expression["all"]]}
