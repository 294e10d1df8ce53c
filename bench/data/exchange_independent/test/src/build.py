"""Assemble the hand-written batch files into listings.xlsx, qrels.jsonl and negatives.jsonl.

The script only assembles: it shuffles rows, assigns external ids, computes USCCs, picks
validity dates and blanks a fixed share of industry/region codes. All listing text and all
relevance judgements are hand-written in b*.py / cross.py.
"""

import datetime
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import openpyxl
from load import load
from uscc import make_uscc

ents, rows, qrels, neg = load()
rng = random.Random(20270301)

# per-enterprise attributes
ent_keys = sorted(ents)
uscc = {k: make_uscc(ents[k][0], ents[k][1]) for k in ent_keys}
assert len(set(uscc.values())) == len(uscc)

rows = sorted(rows, key=lambda r: r[0])
rng.shuffle(rows)
needs = [r for r in rows if r[2] == "需"]
offers = [r for r in rows if r[2] == "供"]
idmap = {}
for i, r in enumerate(needs, 1):
    idmap[r[0]] = "TN%04d" % i
for i, r in enumerate(offers, 1):
    idmap[r[0]] = "TO%04d" % i

# blank ~10% industry codes and ~5% region codes (row level), deterministic
n = len(rows)
blank_ind = set(rng.sample(range(n), round(n * 0.10)))
blank_reg = set(rng.sample(range(n), round(n * 0.05)))
d0 = datetime.date(2027, 3, 1)
span = (datetime.date(2028, 6, 30) - d0).days

wb = openpyxl.Workbook()
ws = wb.active
ws.title = "资源信息"
header = [
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
ws.append(header)
styles = {}
for i, r in enumerate(rows):
    key, ek, direction, cat, title, desc, qty, unit, price, style = r
    name, region, ind = ents[ek]
    valid = (d0 + datetime.timedelta(days=rng.randint(0, span))).isoformat()
    q = int(qty) if qty.isdigit() else (qty or None)
    line = [
        uscc[ek],
        name,
        direction,
        cat,
        title,
        desc,
        (None if i in blank_ind else ind) or None,
        None if i in blank_reg else region,
        q,
        unit or None,
        price or None,
        valid,
        idmap[key],
    ]
    ws.append(line)
    styles[idmap[key]] = style
# keep codes as text
for row in ws.iter_rows(min_row=2):
    for c in row:
        if isinstance(c.value, str):
            c.number_format = "@"
for col, w in zip("ABCDEFGHIJKLM", [22, 34, 6, 6, 40, 80, 8, 10, 8, 10, 16, 12, 10]):
    ws.column_dimensions[col].width = w
wb.save(os.path.join(OUT, "listings.xlsx"))


def order(k):
    return idmap[k]


with open(os.path.join(OUT, "qrels.jsonl"), "w", encoding="utf-8") as f:
    for nk in sorted(qrels, key=order):
        rel = {idmap[o]: g for o, g in sorted(qrels[nk].items(), key=lambda x: (-x[1], idmap[x[0]]))}
        f.write(json.dumps({"need": idmap[nk], "relevant": rel}, ensure_ascii=False) + "\n")
with open(os.path.join(OUT, "negatives.jsonl"), "w", encoding="utf-8") as f:
    for nk in sorted(neg, key=order):
        hn = {idmap[o]: why for o, why in sorted(neg[nk].items(), key=lambda x: idmap[x[0]])}
        f.write(json.dumps({"need": idmap[nk], "hard_negatives": hn}, ensure_ascii=False) + "\n")
with open(os.path.join(HERE, "id_map.json"), "w", encoding="utf-8") as f:
    json.dump({"ids": idmap, "styles": styles}, f, ensure_ascii=False, indent=0, sort_keys=True)
print("wrote", len(rows), "rows;", len(needs), "needs;", len(offers), "offers;", len(ents), "enterprises")
