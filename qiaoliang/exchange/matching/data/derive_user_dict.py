import csv
import re

words: set[str] = set()


def add(w):
    w = w.strip()
    w = re.sub(r"^(其他|未列明|其它)", "", w)
    if 2 <= len(w) <= 8 and re.fullmatch(r"[\u4e00-\u9fff]+", w):
        words.add(w)


with open("/work/shared/data/kag-supplychain/Product.csv", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        for path in [row["id"], *row["hasSupplyChain"].split(",")]:
            for seg in path.split("-"):
                for part in re.split(r"[、，,与和及]", seg):
                    add(part)
with open("qiaoliang/core/data/industry_gbt4754_2017.csv", encoding="utf-8-sig") as f:
    for row in csv.DictReader(f):
        if int(row["level"]) < 3:
            continue
        for part in re.split(r"[、，,（）()]|和|及|与", row["name"]):
            add(part)
            for suffix in ("制造", "加工", "生产", "服务", "业", "制品"):
                if part.endswith(suffix) and len(part) - len(suffix) >= 2:
                    add(part[: -len(suffix)])
with open("qiaoliang/exchange/matching/data/user_dict.txt", "w", encoding="utf-8") as out:
    out.write("# Domain words for the tokeniser, one per line. Generated from shared/data (see SOURCE.md).\n")
    for w in sorted(words):
        out.write(w + "\n")
print(len(words))
