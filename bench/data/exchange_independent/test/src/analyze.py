import collections
import re
import sys

sys.path.insert(0, ".")
import logging

import jieba

jieba.setLogLevel(logging.ERROR)
from load import load

ents, rows, qrels, neg = load()
R = {r[0]: r for r in rows}
keys = [r[0] for r in rows]
assert len(keys) == len(set(keys)), [k for k, c in collections.Counter(keys).items() if c > 1]
for r in rows:
    assert r[1] in ents, r[0]
    assert r[2] in "供需" and r[3] in ("项目", "业务", "技术", "服务", "人才", "资金", "物资"), r[0]
    assert 20 <= len(r[5]) <= 400, (r[0], len(r[5]))
    assert len(r[4]) <= 60, r[0]
names = collections.Counter(v[0] for v in ents.values())
assert all(c == 1 for c in names.values()), [n for n, c in names.items() if c > 1]
needs = [r for r in rows if r[2] == "需"]
offers = [r for r in rows if r[2] == "供"]
for n, d in list(qrels.items()) + list(neg.items()):
    assert n in R and R[n][2] == "需", n
    for o in d:
        assert o in R and R[o][2] == "供", (n, o)
for n in qrels:
    inter = set(qrels[n]) & set(neg.get(n, {}))
    assert not inter, (n, inter)
for r in needs:
    assert r[0] in qrels and 1 <= len(qrels[r[0]]) <= 6, r[0]
    assert any(g == 2 for g in qrels[r[0]].values()), ("no grade 2", r[0])
STOP = set(
    ["公司", "有限公司", "企业", "我们", "我司", "需要", "需求", "提供", "可以", "服务", "客户", "合作", "长期", "联系", "有意", "欢迎", "要求", "本公司", "以上", "以下", "主要", "现在", "目前", "相关", "进行", "具有", "具备", "能够", "一个", "没有", "有没有", "老板", "私聊", "请", "包括", "以及", "可", "等", "及", "和", "的", "了", "是", "在", "有", "为", "与", "或", "也", "都", "就", "不", "按", "个", "对", "从", "到", "于", "我", "你", "他", "这", "那", "能", "要", "会", "把", "被", "让", "给", "好", "多", "大", "小", "新", "最", "每", "年", "月", "日", "天", "元", "万元", "万", "吨", "家", "人", "做", "用", "找", "求", "供应", "采购", "求购", "承接", "专业", "本地", "全国", "一站式", "厂家", "直供", "面议", "价格", "质量", "优质", "规模", "经验", "资质", "齐全", "可开", "发票", "专票", "现货", "定制", "等等", "左右", "以内", "支持", "品牌", "产品", "项目", "业务", "技术", "人才", "资金", "物资", "一家", "多家", "希望", "寻找", "寻求", "诚征", "征集", "诚寻", "急", "急需", "实力", "优势", "合适", "感兴趣", "另有", "帮忙", "推荐", "介绍", "电话", "微信", "比较", "一下", "一些", "一起", "如果", "可能", "已经", "还", "再", "先", "后", "并", "但", "而", "其", "该", "此", "之", "所", "将", "已", "由", "向", "以", "至", "内", "外", "上", "下", "中", "后续", "情况", "方式", "方面", "时间", "范围", "地区", "区域", "小时", "每小时", "每天", "每日", "每月", "每周", "每年", "年度", "平方米", "立方米", "公斤", "周边", "附近", "当天", "次日", "以后", "之前", "一年", "两年", "大概", "上下", "稳定", "快速"]
)


def words(t):
    t = re.sub(r"<[^>]+>", " ", t)
    return {w.lower() for w in jieba.lcut(t) if len(w) >= 2 and not re.fullmatch(r"[\d\W_]+", w) and w not in STOP}


gap = 0
for r in needs:
    nw = words(r[4] + " " + r[5])
    g2 = [o for o, g in qrels[r[0]].items() if g == 2]
    shared = {o: nw & words(R[o][4] + " " + R[o][5]) for o in g2}
    if all(not s for s in shared.values()):
        gap += 1
    if "-v" in sys.argv:
        print(r[0], {o: sorted(s)[:8] for o, s in shared.items()})
cross = sum(1 for n, d in qrels.items() for o in d if R[o][3] != R[n][3])
tot = sum(len(d) for d in qrels.values())
print(
    f"rows={len(rows)} needs={len(needs)} offers={len(offers)} ents={len(ents)} pairs={tot} cross={cross} ({cross / max(tot, 1):.1%}) gap_needs={gap} ({gap / max(len(needs), 1):.1%})"
)
used = set(o for d in qrels.values() for o in d) | set(o for d in neg.values() for o in d)
print(
    "offers in no qrels/neg:",
    len([o for o in offers if o[0] not in used]),
    " offers relevant to none:",
    len([o for o in offers if not any(o[0] in d for d in qrels.values())]),
)
usedents = {r[1] for r in rows}
print("unused ents:", [k for k in ents if k not in usedents])
print("needs without NEG:", [r[0] for r in needs if not neg.get(r[0])])
