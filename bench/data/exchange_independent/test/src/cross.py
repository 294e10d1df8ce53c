# Cross-batch judgements added during the final scan: for every need, the unjudged offers ranked
# most similar (character bigrams, Traditional folded to Simplified) plus all offers of the same
# category for 资金/人才/项目/技术 needs were read and judged by hand. Additions below.
QRELS = {
    "J.n1": {"X.o8": 1},  # retained-counsel package includes 催款函, Guangzhou/Foshan
    "G.n3": {"Y.o49": 1},  # down-proof coating service, partial (fabric still needed)
    "M.n4": {"M.o1": 1, "M.o3": 1},  # regional FMCG distributor / snack chain open to new brands
    "M.n5": {"X.o10": 1},  # Douyin account operation (short video, not live)
    "Q.n1": {"X.o25": 1},  # green credit for storage projects
}

NEG = {
    "B.n1": {"B.o14": "domestic cloud warehouse, not US overseas warehouse"},
    "B.n3": {"Y.o41": "business car hire with driver, passengers not goods"},
    "B.n8": {"B.o6": "crane hire in Tangshan, wrong region"},
    "E.n4": {"H.o7": "EMC lab but for medical-device registration testing"},
    "F.n5": {"B.o15": "dangerous-goods carrier, no waste disposal licence"},
    "G.n2": {"Y.o37": "office cleaning service in Shanghai, shares 保洁"},
    "I.n2": {"Y.o50": "security awareness training, same firm, not 测评"},
    "J.n2": {"Y.o51": "company registration, same Chengdu firm"},
    "M.n1": {"X.o35": "supermarket recruiting imported-food suppliers only"},
    "M.n6": {"Y.o42": "gift boxes, shares 团购/礼品"},
    "N.n1": {"X.o34": "exhibition participation organiser, not booth builder"},
    "N.n3": {"G.o14": "printed advertising T-shirts, shares 广告"},
    "Q.n1": {"P.o1": "rooftop PV investor, not storage"},
    "Q.n4": {"Y.o56": "vehicle LNG filling stations, not industrial point supply"},
    "P.n5": {"L.o4": "another investor (same direction as need)"},
    "L.n1": {"X.o15": "same bank but export finance", "L.o13": "bank loans but Xiamen, wrong region"},
    "L.n3": {"Y.o53": "same lessor but vehicle leasing"},
    "B.n5": {"X.o18": "B2B warehouse in Wuhan, wrong region"},
    "A.n10": {"Y.o61": "air cold chain for flowers, same carrier"},
    "A.n4": {"Y.o62": "meat import clearance in Zhengzhou"},
    "C.n8": {"Y.o63": "pipe insulation from same maker"},
    "H.n6": {"Y.o60": "physiotherapy equipment, same maker"},
    "R.n1": {"Y.o57": "potting soil, same maker, shares 有机"},
    "B.n7": {"Y.o62": "meat import port service, shares 郑州/陆港"},
    "B.n2": {"Y.o59": "container yard, same company"},
    "D.n3": {"X.o14": "aerial work platforms, same rental firm"},
    "C.n4": {"X.o16": "office fit-out listing"},
    "K.n4": {"Y.o20": "cross-border live streaming for South-East Asia"},
    "M.n5": {"Y.o20": "cross-border live streaming for South-East Asia"},
    "P.n2": {"Y.o55": "homestay staff training, same operator"},
}
