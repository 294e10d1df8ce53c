"""Writer's review aid: list enterprises with region/industry names and flag city mismatches."""

import sys

import build

areas, cities, provs, inds = build.load_ref()
ents, listings, rels, hards, errors = build.parse()
print("\n".join(errors))
files = sys.argv[1:]
for e in ents.values():
    if files and not any(f in e["where"] for f in files):
        continue
    a = areas.get(e["region"])
    loc = f"{provs.get(a['provinceCode'], '')}{cities.get(a['cityCode'], '')}{a['name']}" if a else "??"
    city = cities.get(a["cityCode"], "") if a else ""
    cityshort = city.replace("市", "").replace("地区", "")
    warn = ""
    if a and cityshort not in ("辖区", "") and cityshort[:2] not in e["name"] and a["name"][:2] not in e["name"]:
        warn = "  <-- check"
    print(f"{e['key']:8} {e['name']:28} {loc:20} {inds.get(e['industry'], '??')}{warn}")
