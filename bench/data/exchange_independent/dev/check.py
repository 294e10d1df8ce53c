"""Validate the dev set in this folder and print its counts.

Checks: sheet and header; USCC format, GB 32100 check character and GB 11714
organisation-code check; one enterprise name per USCC; 行业代码 is a 4-digit class of
GB/T 4754-2017; 行政区划代码 is a county code in the 2023 division table; 供需 and 类别
values; title/description lengths; 有效期至 range; 外部编号 format and uniqueness;
qrels and negatives refer to existing needs/offers, grades 1-2, 1-6 relevant per
need, folds round-robin, no offer both relevant and hard negative.

Statistics: rows, enterprises, Traditional-script share, empty-code shares, relevant
pairs, cross-category share, and the share of needs that share no content word
(rjieba tokens of two or more characters, minus a small list of generic words)
with any of their grade-2 offers.

Run: python check.py   (needs openpyxl; rjieba and opencc for the statistics)
Exit status 1 on any validation error.
"""

import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REF = Path("/work/shared/data")
if not REF.exists():  # CI copies shared/ beside the clone
    for up in HERE.parents:
        if (up / "shared" / "data").exists():
            REF = up / "shared" / "data"
            break

HEADER = [
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
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W18 = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
W11714 = [3, 7, 9, 10, 5, 8, 4, 2]
GENERIC = set(
    ["需要", "需求", "提供", "公司", "企业", "我们", "我司", "本公司", "可以", "可", "服务", "合作", "长期", "要求", "希望", "寻求", "寻找", "找", "有限公司", "优先", "欢迎", "左右", "以上", "以内", "一个", "一家", "没有", "什么", "这个", "那个", "现在", "目前", "已经", "还是", "或者", "如果", "以及", "相关", "进行", "能够", "包括", "主要", "专业", "一站式", "一条龙", "全国", "客户", "价格", "面议", "报价", "有没有", "靠谱", "最好", "比较", "大概", "大约", "每月", "每年", "一年", "一次", "工厂", "厂家", "厂里", "项目", "业务", "技术", "人才", "资金", "物资", "适合", "适用", "支持", "可按", "按照", "根据", "等等", "以下", "之前", "之后", "不是", "不要", "供应", "采购", "求购", "出售", "承接", "诚招", "招聘", "急需", "急招", "急", "地区", "本地", "周边", "范围", "均可", "都", "可以", "做", "能", "的", "了"]
)


def uscc_ok(u):
    if len(u) != 18 or any(c not in CHARSET for c in u):
        return False
    s = sum(CHARSET.index(c) * w for c, w in zip(u[:17], W18))
    c = 31 - s % 31
    return CHARSET[0 if c == 31 else c] == u[17]


def orgcode_ok(org):
    s = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(org[:8], W11714))
    c = 11 - s % 11
    return org[8] == ("X" if c == 10 else ("0" if c == 11 else str(c)))


def load_codes():
    with open(REF / "admin-divisions-2023/areas.csv", encoding="utf-8") as f:
        areas = {r["code"] for r in csv.DictReader(f)}
    with open(REF / "gbt4754-2017-industry/gbt4754_2017_flat.csv", encoding="utf-8") as f:
        inds = {r["code"] for r in csv.DictReader(f) if r["level"] == "4"}
    return areas, inds


def main():
    from openpyxl import load_workbook

    errors = []
    areas, inds = load_codes()
    wb = load_workbook(HERE / "listings.xlsx", read_only=True)
    if wb.sheetnames != ["资源信息"]:
        errors.append(f"sheets {wb.sheetnames}")
    ws = wb["资源信息"]
    rows = list(ws.iter_rows(values_only=True))
    if list(rows[0]) != HEADER:
        errors.append(f"header {rows[0]}")
    recs = []
    for i, r in enumerate(rows[1:], 2):
        d = {k: ("" if v is None else str(v)) for k, v in zip(HEADER, r)}
        d["_row"] = i
        recs.append(d)

    name_of, ids = {}, set()
    for d in recs:
        row = d["_row"]
        u = d["统一社会信用代码"]
        if not uscc_ok(u):
            errors.append(f"row {row}: bad USCC {u}")
        else:
            if not u.startswith("91") or u[2:8] not in areas:
                errors.append(f"row {row}: USCC prefix/region {u}")
            if not orgcode_ok(u[8:17]):
                errors.append(f"row {row}: organisation code check {u}")
            if not u[8:10] == "DE":
                errors.append(f"row {row}: organisation code does not start with DE: {u}")
        if name_of.setdefault(u, d["企业名称"]) != d["企业名称"]:
            errors.append(f"row {row}: USCC {u} used for two names")
        if d["供需"] not in ("供", "需"):
            errors.append(f"row {row}: 供需 {d['供需']}")
        if d["类别"] not in CATS:
            errors.append(f"row {row}: 类别 {d['类别']}")
        if not d["标题"] or len(d["标题"]) > 60:
            errors.append(f"row {row}: title length {len(d['标题'])}")
        if not 20 <= len(d["描述"]) <= 400:
            errors.append(f"row {row}: description length {len(d['描述'])}")
        if d["行业代码"] and d["行业代码"] not in inds:
            errors.append(f"row {row}: 行业代码 {d['行业代码']}")
        if d["行政区划代码"] and d["行政区划代码"] not in areas:
            errors.append(f"row {row}: 行政区划代码 {d['行政区划代码']}")
        if d["行政区划代码"] and d["行政区划代码"] != u[2:8]:
            errors.append(f"row {row}: 行政区划代码 differs from USCC region")
        date = d["有效期至"]
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) or not "2027-03-01" <= date <= "2028-06-30":
            errors.append(f"row {row}: 有效期至 {date}")
        ext = d["外部编号"]
        want = "DN" if d["供需"] == "需" else "DO"
        if not re.fullmatch(want + r"\d{4}", ext):
            errors.append(f"row {row}: 外部编号 {ext}")
        if ext in ids:
            errors.append(f"row {row}: duplicate 外部编号 {ext}")
        ids.add(ext)

    by_id = {d["外部编号"]: d for d in recs}
    needs = sorted(k for k in by_id if k.startswith("DN"))
    offers = sorted(k for k in by_id if k.startswith("DO"))
    qrels = [json.loads(x) for x in open(HERE / "qrels.jsonl", encoding="utf-8")]
    negs = [json.loads(x) for x in open(HERE / "negatives.jsonl", encoding="utf-8")]
    seen = set()
    for i, q in enumerate(qrels):
        n = q["need"]
        if n not in by_id or not n.startswith("DN"):
            errors.append(f"qrels: unknown need {n}")
        if n in seen:
            errors.append(f"qrels: {n} twice")
        seen.add(n)
        if q["fold"] != i % 5 or n != f"DN{i + 1:04d}":
            errors.append(f"qrels: fold/order {n} {q['fold']}")
        if not 1 <= len(q["relevant"]) <= 6:
            errors.append(f"qrels: {n} has {len(q['relevant'])} relevant")
        for o, g in q["relevant"].items():
            if o not in by_id or not o.startswith("DO"):
                errors.append(f"qrels: {n} -> unknown offer {o}")
            if g not in (1, 2):
                errors.append(f"qrels: {n} -> {o} grade {g}")
        if 2 not in q["relevant"].values():
            errors.append(f"qrels: {n} has no grade-2 offer")
    if seen != set(needs):
        errors.append(f"qrels cover {len(seen)} of {len(needs)} needs")
    rel = {q["need"]: q["relevant"] for q in qrels}
    for h in negs:
        n = h["need"]
        if n not in rel:
            errors.append(f"negatives: unknown need {n}")
            continue
        if not 1 <= len(h["hard_negatives"]) <= 4:
            errors.append(f"negatives: {n} has {len(h['hard_negatives'])}")
        for o, reason in h["hard_negatives"].items():
            if o not in by_id or not o.startswith("DO"):
                errors.append(f"negatives: {n} -> unknown offer {o}")
            if o in rel[n]:
                errors.append(f"negatives: {n} -> {o} is also relevant")
            if not reason:
                errors.append(f"negatives: {n} -> {o} without reason")

    # ---- statistics
    n_ent = len(name_of)
    pairs = [(n, o, g) for n, d in rel.items() for o, g in d.items()]
    cross = sum(1 for n, o, g in pairs if by_id[n]["类别"] != by_id[o]["类别"])
    cross2 = sum(1 for n, o, g in pairs if g == 2 and by_id[n]["类别"] != by_id[o]["类别"])
    g2 = sum(1 for p in pairs if p[2] == 2)
    used = Counter(o for n, o, g in pairs)
    print(f"rows {len(recs)}: needs {len(needs)}, offers {len(offers)}; enterprises {n_ent}")
    print("需 by 类别:", dict(Counter(by_id[n]["类别"] for n in needs)))
    print("供 by 类别:", dict(Counter(by_id[o]["类别"] for o in offers)))
    print(
        f"relevant pairs {len(pairs)} (grade 2: {g2}, grade 1: {len(pairs) - g2}); "
        f"per need: {dict(sorted(Counter(len(d) for d in rel.values()).items()))}"
    )
    print(
        f"cross-category pairs {cross}/{len(pairs)} = {cross / len(pairs):.1%} "
        f"(grade-2 only: {cross2}/{g2} = {cross2 / g2:.1%})"
    )
    print(
        f"offers relevant to >=2 needs: {sum(1 for c in used.values() if c >= 2)}; "
        f"offers relevant to none: {len(offers) - len(used)}"
    )
    print(f"needs with hard negatives {len(negs)}; hard-negative pairs {sum(len(h['hard_negatives']) for h in negs)}")
    print(
        f"empty 行业代码 {sum(1 for d in recs if not d['行业代码']) / len(recs):.1%}; "
        f"empty 行政区划代码 {sum(1 for d in recs if not d['行政区划代码']) / len(recs):.1%}"
    )
    try:
        import opencc
        import rjieba
    except ImportError:
        print("(opencc/rjieba missing: Traditional share and word-overlap statistic skipped)")
    else:
        s2t = opencc.OpenCC("s2t")
        t2s = opencc.OpenCC("t2s")
        trad = 0
        for d in recs:
            text = d["标题"] + d["描述"]
            han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
            changed = sum(1 for c in han if s2t.convert(c) == c and t2s.convert(c) != c)
            if han and changed / len(han) > 0.05:
                trad += 1
        print(f"rows in Traditional characters: {trad} ({trad / len(recs):.1%})")

        def words(d):
            text = t2s.convert(re.sub(r"<[^>]+>|&nbsp;", " ", d["标题"] + " " + d["描述"]))
            return {
                w
                for w in rjieba.cut(text)
                if (len(w) >= 2
                and w not in GENERIC
                and not re.fullmatch(r"[\W\d_a-zA-Z]+", w))
                or re.fullmatch(r"[A-Za-z]{2,}\d*", w)
            }

        gap = 0
        for n, d in rel.items():
            wn = words(by_id[n])
            if all(not (wn & words(by_id[o])) for o, g in d.items() if g == 2):
                gap += 1
        print(f"needs sharing no content word with any grade-2 offer: {gap}/{len(rel)} = {gap / len(rel):.1%}")

    if errors:
        print(f"\n{len(errors)} ERRORS")
        print("\n".join(errors[:200]))
        sys.exit(1)
    print("\nOK: all checks passed")


if __name__ == "__main__":
    main()
