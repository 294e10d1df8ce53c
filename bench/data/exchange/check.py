"""Sanity checks for the resource-exchange evaluation sets.

/work/main/.venv/bin/python bench/data/exchange/check.py
"""

import csv
import json
import sys
from collections import Counter
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
SHARED = (HERE / "../../../../shared/data").resolve()
HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "供需",
    "类别",
    "标题",
    "描述",
    "行业代码",
    "行政区划代码",
    "数量",
    "单位",
    "价格或预算",
    "有效期至",
    "外部编号",
]
CATS = {"项目", "业务", "技术", "服务", "人才", "资金", "物资"}
ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W = [pow(3, i, 31) for i in range(17)]


def read_csv(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


IND4 = {r["code"] for r in read_csv(SHARED / "gbt4754-2017-industry/gbt4754_2017_flat.csv") if r["level"] == "4"}
AREAS = {r["code"] for r in read_csv(SHARED / "admin-divisions-2023/areas.csv")}
errors = []


def err(msg):
    errors.append(msg)


def uscc_ok(s):
    if len(s) != 18 or any(c not in ALPHA for c in s):
        return False
    return ALPHA[(31 - sum(ALPHA.index(c) * w for c, w in zip(s[:17], W, strict=False)) % 31) % 31] == s[17]


def check(prefix, min_needs):
    print(f"== {prefix or 'main'} set")
    wb = openpyxl.load_workbook(HERE / f"{prefix}listings.xlsx", read_only=True)
    if len(wb.sheetnames) != 1:
        err(f"{prefix}: {len(wb.sheetnames)} sheets")
    ws = wb[wb.sheetnames[0]]
    it = ws.iter_rows(values_only=True)
    hdr = list(next(it))
    if hdr != HEADERS:
        err(f"{prefix}: headers {hdr}")
    xrows = [dict(zip(hdr, r, strict=False)) for r in it]
    jrows = read_jsonl(HERE / f"{prefix}listings.jsonl")
    if [{k: (None if v in ("", None) else v) for k, v in r.items()} for r in xrows] != [
        {k: (None if v in ("", None) else v) for k, v in r.items()} for r in jrows
    ]:
        err(f"{prefix}: xlsx and jsonl rows differ")
    print(f"headers ok: {hdr == HEADERS}; rows xlsx={len(xrows)} jsonl={len(jrows)}")
    ids, name2uscc, uscc2name = {}, {}, {}
    bad = Counter()
    for r in xrows:
        x = r["外部编号"]
        if x in ids:
            bad["duplicate id"] += 1
        ids[x] = r
        if (
            not uscc_ok(r["统一社会信用代码"])
            or r["统一社会信用代码"][:2] != "91"
            or r["统一社会信用代码"][2:8] != r["行政区划代码"]
        ):
            bad["uscc"] += 1
        if name2uscc.setdefault(r["企业名称"], r["统一社会信用代码"]) != r["统一社会信用代码"]:
            bad["name with two USCCs"] += 1
        if uscc2name.setdefault(r["统一社会信用代码"], r["企业名称"]) != r["企业名称"]:
            bad["USCC with two names"] += 1
        if r["供需"] not in ("供", "需"):
            bad["供需"] += 1
        if r["类别"] not in CATS:
            bad["类别"] += 1
        if r["行业代码"] not in IND4:
            bad["行业代码"] += 1
        if r["行政区划代码"] not in AREAS:
            bad["行政区划代码"] += 1
        if not (str(r["有效期至"]) > "2027-01-01" and len(str(r["有效期至"])) == 10):
            bad["有效期至"] += 1
        if not r["标题"] or not r["描述"]:
            bad["empty text"] += 1
        pre = prefix and "H"
        want = (pre or "") + ("N" if r["供需"] == "需" else "O")
        if not x.startswith(want):
            bad["id prefix vs direction"] += 1
    print(
        f"USCC check characters valid: {sum(uscc_ok(r['统一社会信用代码']) for r in xrows)}/{len(xrows)}; "
        f"enterprises: {len(name2uscc)}; industry/region codes checked against shared tables"
    )
    for k, v in bad.items():
        err(f"{prefix}: {v} rows fail {k}")
    needs = [r for r in xrows if r["供需"] == "需"]
    offers = [r for r in xrows if r["供需"] == "供"]
    print(f"needs={len(needs)} offers={len(offers)}")
    if len(needs) < min_needs:
        err(f"{prefix}: only {len(needs)} needs")
    cn, co = Counter(r["类别"] for r in needs), Counter(r["类别"] for r in offers)
    print(
        "per category (需/供): "
        + "  ".join(f"{c} {cn[c]}/{co[c]}" for c in ["物资", "人才", "服务", "资金", "技术", "业务", "项目"])
    )
    q = read_jsonl(HERE / f"{prefix}qrels.jsonl")
    if sorted(x["need"] for x in q) != sorted(r["外部编号"] for r in needs):
        err(f"{prefix}: qrels needs != listing needs")
    nrel, grades, folds, fold_cat = Counter(), Counter(), Counter(), Counter()
    for x in q:
        rel = x["relevant"]
        nrel[len(rel)] += 1
        folds[x["fold"]] += 1
        fold_cat[(x["fold"], ids[x["need"]]["类别"])] += 1
        if not 1 <= len(rel) <= 5:
            err(f"{prefix}: {x['need']} has {len(rel)} relevant")
        for oid, g in rel.items():
            grades[g] += 1
            if oid not in ids:
                err(f"{prefix}: {oid} unknown")
            elif ids[oid]["供需"] != "供":
                err(f"{prefix}: {x['need']} -> {oid} is not an offer")
            elif g not in (1, 2):
                err(f"{prefix}: grade {g}")
        if x["fold"] not in range(5):
            err(f"{prefix}: fold {x['fold']}")
    print(
        "relevant per need: "
        + ", ".join(f"{k}:{nrel[k]}" for k in sorted(nrel))
        + f"; grades 2={grades[2]} 1={grades[1]}"
    )
    print("fold sizes: " + ", ".join(f"{f}:{folds[f]}" for f in sorted(folds)))
    if folds and max(folds.values()) - min(folds.values()) > max(3, len(q) // 50):
        err(f"{prefix}: folds unbalanced")
    # hard negatives must never be relevant
    negp = HERE / f"{prefix}negatives.jsonl"
    if negp.exists():
        qrel = {x["need"]: x["relevant"] for x in q}
        reasons = Counter()
        with_neg = 0
        for x in read_jsonl(negp):
            with_neg += bool(x["hard_negatives"])
            for oid, why in x["hard_negatives"].items():
                reasons[why.split(":")[0]] += 1
                if oid in qrel[x["need"]]:
                    err(f"{prefix}: hard negative {oid} of {x['need']} is relevant")
                if oid not in ids:
                    err(f"{prefix}: hard negative {oid} unknown")
        print(
            f"needs with hard negatives: {with_neg}/{len(q)}; "
            + ", ".join(f"{k} {v}" for k, v in reasons.most_common())
        )
    # titles: a relevant offer never repeats the need's title verbatim
    same = sum(1 for x in q for oid in x["relevant"] if ids[oid]["标题"] == ids[x["need"]]["标题"])
    print(f"relevant offers with the need's exact title: {same}")
    trad = (sum(1 for r in xrows if any(ch in r["标题"] + r["描述"] for ch in "們應電話這個國際產業與為說業務區會聯")),)
    html = sum(1 for r in xrows if "<" in r["描述"] or "&nbsp;" in r["描述"])
    fw = sum(
        1
        for r in xrows
        if any("\uff01" <= ch <= "\uff5e" and ch not in "，：；（）！？" for ch in r["标题"] + r["描述"])
    )
    py = sum(1 for r in xrows if "(" in r["描述"] and any(ch in r["描述"] for ch in "āáǎàēéěèīíǐìōóǒòūúǔù"))
    print(f"debris rows: traditional~{trad[0]} html={html} fullwidth={fw} pinyin={py}")


check("", 300)
check("heldout_", 60)
print()
if errors:
    print("FAIL")
    for e in errors[:50]:
        print(" -", e)
    sys.exit(1)
print("OK")
