"""Assemble the hand-written source files in src/ into listings.xlsx, qrels.jsonl
and negatives.jsonl.

The listings, judgments and negatives are all written by hand in src/*.txt. This
script only: parses them, computes USCCs, converts the text of enterprises flagged
hk/tw to Traditional characters (OpenCC), blanks a deterministic ~10% of industry
codes and ~5% of region codes, draws validity dates, shuffles and numbers rows.

Source format (one record per line, fields separated by " | "):
  E key | 企业名称 | 行政区划代码 | 行业代码 [| flags]      flags: hk, tw, mo
  E key                                                    (re-use an earlier enterprise)
  O lid | 类别 | 标题 | 描述 [| 数量 | 单位 | 价格或预算]  (offer 供 of the last E)
  N lid | 类别 | 标题 | 描述 [| 数量 | 单位 | 价格或预算]  (need 需 of the last E)
  R need_lid | offer_lid=2 offer_lid=1 ...
  H need_lid | offer_lid: reason ; offer_lid: reason
Lines starting with # are comments. A trailing backslash is not used: one line each.
"""

import csv
import hashlib
import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
REF = Path("/work/shared/data")

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W18 = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
W11714 = [3, 7, 9, 10, 5, 8, 4, 2]
ORG_PREFIX = "DE"  # "DV" cannot be used: V is not in the GB 32100 character set
CATS = {"项目", "业务", "技术", "服务", "人才", "资金", "物资"}


def orgcode_check(body8):
    s = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, W11714))
    c = 11 - s % 11
    return "X" if c == 10 else ("0" if c == 11 else str(c))


def uscc_check(first17):
    s = sum(CHARSET.index(c) * w for c, w in zip(first17, W18))
    c = 31 - s % 31
    return CHARSET[0 if c == 31 else c]


def make_uscc(region, serial):
    # body: DE + 6 chars from digits and allowed letters, derived from the serial
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    n = serial * 7919 + 104729
    tail = ""
    for _ in range(6):
        tail = alphabet[n % 31] + tail
        n //= 31
    body = ORG_PREFIX + tail
    org = body + orgcode_check(body)
    first17 = "91" + region + org
    return first17 + uscc_check(first17)


def load_ref():
    areas = {}
    with open(REF / "admin-divisions-2023/areas.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            areas[r["code"]] = r
    cities = {}
    with open(REF / "admin-divisions-2023/cities.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            cities[r["code"]] = r["name"]
    provs = {}
    with open(REF / "admin-divisions-2023/provinces.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            provs[r["code"]] = r["name"]
    inds = {}
    with open(REF / "gbt4754-2017-industry/gbt4754_2017_flat.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["level"] == "4":
                inds[r["code"]] = r["name"]
    return areas, cities, provs, inds


def parse():
    ents, listings, rels, hards = {}, {}, {}, {}
    errors = []
    cur = None
    for path in sorted(SRC.glob("*.txt")):
        for ln, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{path.name}:{ln}"
            kind, _, rest = line.partition(" ")
            parts = [p.strip() for p in rest.split("|")]
            if kind == "E":
                key = parts[0]
                if len(parts) == 1:
                    if key not in ents:
                        errors.append(f"{where}: unknown enterprise {key}")
                    cur = key
                    continue
                if key in ents:
                    errors.append(f"{where}: duplicate enterprise key {key}")
                flags = parts[4].split(",") if len(parts) > 4 else []
                ents[key] = dict(
                    key=key,
                    name=parts[1],
                    region=parts[2],
                    industry=parts[3],
                    flags=[x.strip() for x in flags if x.strip()],
                    where=where,
                    serial=len(ents) + 1,
                )
                cur = key
            elif kind in ("O", "N"):
                lid = parts[0]
                if lid in listings:
                    errors.append(f"{where}: duplicate listing id {lid}")
                while len(parts) < 7:
                    parts.append("")
                if len(parts) > 7:
                    errors.append(f"{where}: too many fields ({len(parts)}) in {lid}")
                listings[lid] = dict(
                    lid=lid,
                    side="供" if kind == "O" else "需",
                    cat=parts[1],
                    title=parts[2],
                    desc=parts[3],
                    qty=parts[4],
                    unit=parts[5],
                    price=parts[6],
                    ent=cur,
                    where=where,
                )
                if parts[1] not in CATS:
                    errors.append(f"{where}: bad category {parts[1]}")
            elif kind == "R":
                need = parts[0]
                d = rels.setdefault(need, {})
                for tok in parts[1].split() if len(parts) > 1 else []:
                    o, _, g = tok.partition("=")
                    if o in d:
                        errors.append(f"{where}: {need} judged twice for {o}")
                    d[o] = int(g)
            elif kind == "H":
                need = parts[0]
                d = hards.setdefault(need, {})
                for item in "|".join(parts[1:]).split(" ; "):
                    o, _, reason = item.partition(":")
                    d[o.strip()] = reason.strip()
            else:
                errors.append(f"{where}: unknown record kind {kind!r}")
    return ents, listings, rels, hards, errors


def main():
    areas, cities, provs, inds = load_ref()
    ents, listings, rels, hards, errors = parse()
    for e in ents.values():
        if e["region"] not in areas:
            errors.append(f"{e['where']}: region {e['region']} not in areas.csv ({e['name']})")
        if e["industry"] not in inds:
            errors.append(f"{e['where']}: industry {e['industry']} not a 4-digit class ({e['name']})")
    names = {}
    for e in ents.values():
        if e["name"] in names:
            errors.append(f"{e['where']}: enterprise name reused by {names[e['name']]}: {e['name']}")
        names[e["name"]] = e["key"]
    for nid, d in rels.items():
        if nid not in listings or listings[nid]["side"] != "需":
            errors.append(f"R: {nid} is not a need")
        for o, g in d.items():
            if o not in listings or listings[o]["side"] != "供":
                errors.append(f"R {nid}: {o} is not an offer")
            if g not in (1, 2):
                errors.append(f"R {nid}: grade {g}")
    for nid, d in hards.items():
        if nid not in listings:
            errors.append(f"H: {nid} unknown")
        for o in d:
            if o not in listings or listings[o]["side"] != "供":
                errors.append(f"H {nid}: {o} is not an offer")
            if o in rels.get(nid, {}):
                errors.append(f"H {nid}: {o} is both relevant and hard negative")
    for lid, l in listings.items():
        if l["side"] == "需" and lid not in rels:
            errors.append(f"{l['where']}: need {lid} has no R line")
    if errors:
        print("\n".join(errors))
        if "--force" not in sys.argv:
            sys.exit(1)

    import opencc

    conv = {"hk": opencc.OpenCC("s2hk"), "tw": opencc.OpenCC("s2twp"), "mo": opencc.OpenCC("s2hk")}

    rng = random.Random(20260301)
    needs = [l for l in listings.values() if l["side"] == "需"]
    offers = [l for l in listings.values() if l["side"] == "供"]
    rng.shuffle(needs)
    rng.shuffle(offers)
    ext = {}
    for i, l in enumerate(needs, 1):
        ext[l["lid"]] = f"DN{i:04d}"
    for i, l in enumerate(offers, 1):
        ext[l["lid"]] = f"DO{i:04d}"

    start, end = date(2027, 3, 1), date(2028, 6, 30)
    span = (end - start).days
    rows = []
    for l in needs + offers:
        e = ents[l["ent"]]
        h = int(hashlib.md5(l["lid"].encode()).hexdigest(), 16)
        industry = "" if h % 100 < 10 else e["industry"]
        region = "" if (h // 100) % 100 < 4 else e["region"]
        d = start + timedelta(days=rng.randint(0, span))
        title, desc, qty, unit, price = l["title"], l["desc"], l["qty"], l["unit"], l["price"]
        for fl in e["flags"]:
            if fl in conv:
                title, desc, unit, price = (conv[fl].convert(x) for x in (title, desc, unit, price))
        rows.append(
            [
                make_uscc(e["region"], e["serial"]),
                e["name"],
                l["side"],
                l["cat"],
                title,
                desc,
                industry,
                region,
                qty,
                unit,
                price,
                d.isoformat(),
                ext[l["lid"]],
            ]
        )

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "资源信息"
    ws.append(
        [
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
    )
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows(min_row=2):
        for c in row:
            c.number_format = "@"
    wb.save(HERE / "listings.xlsx")

    with open(HERE / "qrels.jsonl", "w", encoding="utf-8") as f:
        for i, l in enumerate(needs):
            rel = {ext[o]: g for o, g in sorted(rels[l["lid"]].items(), key=lambda x: ext[x[0]])}
            f.write(json.dumps({"need": ext[l["lid"]], "relevant": rel, "fold": i % 5}, ensure_ascii=False) + "\n")
    with open(HERE / "negatives.jsonl", "w", encoding="utf-8") as f:
        for l in needs:
            if l["lid"] in hards:
                hn = {ext[o]: r for o, r in hards[l["lid"]].items()}
                f.write(json.dumps({"need": ext[l["lid"]], "hard_negatives": hn}, ensure_ascii=False) + "\n")
    # private map from hand-written ids to external ids, for the writer's own review
    with open(HERE / "src" / "idmap.tsv", "w", encoding="utf-8") as f:
        for lid in sorted(ext):
            f.write(f"{lid}\t{ext[lid]}\n")
    print(
        f"enterprises {len(ents)}  needs {len(needs)}  offers {len(offers)}  "
        f"rel pairs {sum(len(d) for d in rels.values())}  hard-neg needs {len(hards)}"
    )


if __name__ == "__main__":
    main()
