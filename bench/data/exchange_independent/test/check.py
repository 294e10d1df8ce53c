#!/usr/bin/env python3
"""Validate the independent exchange test set (listings.xlsx, qrels.jsonl, negatives.jsonl).

Checks: sheet name and header; USCC check characters (GB 32100) and embedded organisation-code
check (GB 11714); USCC prefix 91 + a region code from admin-divisions-2023/areas.csv; one name
per USCC and one USCC per name; industry codes are 4-digit GB/T 4754-2017 classes; region codes
exist in areas.csv; 供需/类别 values; id format and direction; title/description lengths; validity
dates between 2027-03-01 and 2028-06-30; every qrels/negatives id exists with the right direction,
grades, counts, no overlap between relevant and hard negatives. Prints counts.

Needs only the standard library and openpyxl. Reference tables are looked up in
$QIAOLIANG_SHARED_DATA, or in a `shared/data` folder beside any parent of this file
(e.g. /work/shared/data for /work/main/...).

Usage: python check.py            exit code 0 when every check passes
"""

import collections
import csv
import datetime
import json
import os
import re
import sys

import openpyxl

HERE = os.path.dirname(os.path.abspath(__file__))
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


def find_shared():
    env = os.environ.get("QIAOLIANG_SHARED_DATA")
    if env and os.path.isdir(env):
        return env
    d = HERE
    while True:
        cand = os.path.join(d, "shared", "data")
        if os.path.isdir(os.path.join(cand, "admin-divisions-2023")):
            return cand
        parent = os.path.dirname(d)
        if parent == d:
            sys.exit("cannot find shared/data; set QIAOLIANG_SHARED_DATA")
        d = parent


def uscc_ok(code):
    if len(code) != 18 or any(c not in CHARSET for c in code):
        return False
    s = sum(CHARSET.index(c) * pow(3, i, 31) for i, c in enumerate(code[:17]))
    c = 31 - s % 31
    return CHARSET[0 if c == 31 else c] == code[17]


def orgcode_ok(code9):
    val = lambda c: int(c) if c.isdigit() else ord(c) - 55
    s = sum(val(c) * w for c, w in zip(code9[:8], [3, 7, 9, 10, 5, 8, 4, 2]))
    c = 11 - s % 11
    return ("X" if c == 10 else "0" if c == 11 else str(c)) == code9[8]


def main():
    errors = []
    err = errors.append
    shared = find_shared()
    areas = {
        r["code"]: r
        for r in csv.DictReader(open(os.path.join(shared, "admin-divisions-2023", "areas.csv"), encoding="utf-8"))
    }
    inds = {
        r["code"]: r
        for r in csv.DictReader(
            open(os.path.join(shared, "gbt4754-2017-industry", "gbt4754_2017_flat.csv"), encoding="utf-8")
        )
    }
    classes = {c for c, r in inds.items() if r["level"] == "4"}

    # the USCC implementation must agree with the labelled examples
    ex = os.path.join(shared, "zj-org-registry-uscc", "uscc_validation_examples.csv")
    if os.path.exists(ex):
        bad = [
            r["uscc"]
            for r in csv.DictReader(open(ex, encoding="utf-8"))
            if uscc_ok(r["uscc"].upper()) != (r["valid_gb32100"] == "True")
        ]
        if bad:
            err("USCC implementation disagrees with %d reference examples" % len(bad))

    wb = openpyxl.load_workbook(os.path.join(HERE, "listings.xlsx"), read_only=True)
    if wb.sheetnames != ["资源信息"]:
        err("sheet names %r" % wb.sheetnames)
    ws = wb["资源信息"]
    it = ws.iter_rows(values_only=True)
    header = list(next(it))
    if header != HEADER:
        err("header %r" % header)
    rows = [dict(zip(HEADER, r)) for r in it if any(v is not None for v in r)]

    by_id, name_of, uscc_of = {}, {}, {}
    lo, hi = datetime.date(2027, 3, 1), datetime.date(2028, 6, 30)
    for i, r in enumerate(rows, 2):
        rid = r["外部编号"]
        where = "row %d (%s)" % (i, rid)
        if rid in by_id:
            err("%s duplicate id" % where)
        by_id[rid] = r
        code, name = r["统一社会信用代码"], r["企业名称"]
        if not isinstance(code, str) or not uscc_ok(code):
            err("%s bad USCC %r" % (where, code))
        else:
            if not code.startswith("91"):
                err("%s USCC not 91-prefixed" % where)
            if code[2:8] not in areas:
                err("%s USCC region %s not in areas.csv" % (where, code[2:8]))
            if not orgcode_ok(code[8:17]):
                err("%s embedded organisation code check fails" % where)
        if name_of.setdefault(code, name) != name:
            err("%s USCC %s used for two names" % (where, code))
        if uscc_of.setdefault(name, code) != code:
            err("%s name %s has two USCCs" % (where, name))
        d = r["供需"]
        if d not in ("供", "需"):
            err("%s 供需=%r" % (where, d))
        if not isinstance(rid, str) or not re.fullmatch(r"T[NO]\d{4}", rid) or (rid[1] == "N") != (d == "需"):
            err("%s id/direction mismatch" % where)
        if r["类别"] not in CATS:
            err("%s 类别=%r" % (where, r["类别"]))
        t, desc = r["标题"] or "", r["描述"] or ""
        if not t or len(t) > 60:
            err("%s title length %d" % (where, len(t)))
        if not 20 <= len(desc) <= 400:
            err("%s description length %d" % (where, len(desc)))
        ic = r["行业代码"]
        if ic is not None and (not isinstance(ic, str) or ic not in classes):
            err("%s industry code %r not a GB/T 4754-2017 class" % (where, ic))
        rc = r["行政区划代码"]
        if rc is not None and (not isinstance(rc, str) or rc not in areas):
            err("%s region code %r not in areas.csv" % (where, rc))
        q = r["数量"]
        if q is not None and not isinstance(q, (int, float)):
            err("%s 数量 not numeric: %r" % (where, q))
        v = r["有效期至"]
        try:
            dv = datetime.date.fromisoformat(v) if isinstance(v, str) else None
        except ValueError:
            dv = None
        if dv is None or not lo <= dv <= hi:
            err("%s 有效期至 %r" % (where, v))

    def load_jsonl(name):
        with open(os.path.join(HERE, name), encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    qrels = load_jsonl("qrels.jsonl")
    negs = load_jsonl("negatives.jsonl")
    need_ids = {k for k, r in by_id.items() if r["供需"] == "需"}
    offer_ids = {k for k, r in by_id.items() if r["供需"] == "供"}
    qmap = {}
    for q in qrels:
        n = q["need"]
        if n not in need_ids:
            err("qrels need %s is not a need" % n)
        if n in qmap:
            err("qrels need %s twice" % n)
        rel = q["relevant"]
        qmap[n] = rel
        if not 1 <= len(rel) <= 6:
            err("qrels %s has %d relevant" % (n, len(rel)))
        if 2 not in rel.values():
            err("qrels %s has no grade-2 offer" % n)
        for o, g in rel.items():
            if o not in offer_ids:
                err("qrels %s -> %s is not an offer" % (n, o))
            if g not in (1, 2):
                err("qrels %s -> %s grade %r" % (n, o, g))
    missing = need_ids - set(qmap)
    if missing:
        err("needs without qrels: %s" % sorted(missing))
    nmap = {}
    for q in negs:
        n = q["need"]
        hn = q["hard_negatives"]
        nmap[n] = hn
        if n not in need_ids:
            err("negatives need %s is not a need" % n)
        if not 1 <= len(hn) <= 4:
            err("negatives %s has %d entries" % (n, len(hn)))
        for o, why in hn.items():
            if o not in offer_ids:
                err("negatives %s -> %s is not an offer" % (n, o))
            if o in qmap.get(n, {}):
                err("negatives %s -> %s is also relevant" % (n, o))
            if not why:
                err("negatives %s -> %s has no reason" % (n, o))

    # ---- counts
    C = collections.Counter
    print("rows %d  needs %d  offers %d  enterprises %d" % (len(rows), len(need_ids), len(offer_ids), len(uscc_of)))
    print("by direction x category:")
    for d in ("需", "供"):
        c = C(r["类别"] for r in rows if r["供需"] == d)
        print("  %s  " % d + "  ".join("%s %d" % (k, c[k]) for k in sorted(CATS)))
    pairs = [(n, o, g) for n, rel in qmap.items() for o, g in rel.items()]
    cross = [p for p in pairs if by_id[p[0]]["类别"] != by_id[p[1]]["类别"]]
    print(
        "relevant pairs %d (grade 2: %d, grade 1: %d); cross-category %d = %.1f%%"
        % (
            len(pairs),
            sum(g == 2 for *_, g in pairs),
            sum(g == 1 for *_, g in pairs),
            len(cross),
            100 * len(cross) / len(pairs),
        )
    )
    print("relevant per need:", dict(sorted(C(len(v) for v in qmap.values()).items())))
    print("hard negatives: %d over %d needs" % (sum(len(v) for v in nmap.values()), len(nmap)))
    used = C(o for rel in qmap.values() for o in rel)
    print(
        "offers relevant to >=2 needs: %d; offers relevant to no need: %d"
        % (sum(1 for o in offer_ids if used[o] >= 2), sum(1 for o in offer_ids if not used[o]))
    )
    print(
        "blank industry code %.1f%%, blank region code %.1f%%"
        % (
            100 * sum(r["行业代码"] is None for r in rows) / len(rows),
            100 * sum(r["行政区划代码"] is None for r in rows) / len(rows),
        )
    )
    trad = sum(
        1
        for r in rows
        if re.search("[臺灣們這個與為於應對從將廠價進國會區們處]", (r["标题"] or "") + (r["描述"] or ""))
    )
    debris = sum(
        1 for r in rows if re.search(r"<[a-z/]|&nbsp;|&amp;|[０-９]|\u3000", (r["标题"] or "") + (r["描述"] or ""))
    )
    print(
        "rows with Traditional characters %d (%.1f%%); rows with copy debris %d"
        % (trad, 100 * trad / len(rows), debris)
    )
    smap = os.path.join(HERE, "src", "id_map.json")
    if os.path.exists(smap):
        st = json.load(open(smap, encoding="utf-8"))["styles"]
        print("writing styles (from src/id_map.json):", dict(C(s.split("+")[0] for s in st.values())))

    if errors:
        print("\n%d ERRORS" % len(errors))
        for e in errors[:50]:
            print("  " + e)
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
