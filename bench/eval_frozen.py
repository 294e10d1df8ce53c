"""Score the shipped matching configuration and each of its components on the frozen independent test set.

    .venv/bin/python bench/eval_frozen.py

The test half of bench/data/exchange_independent/ was written by a helper that never read the engine and was
frozen before tuning. Nothing is fitted here: the shipped model (data/rank_model.json) ranks with the
engine's default "hybrid" ranker; BM25 alone, e5 alone and reciprocal-rank fusion have nothing to tune. Run it
once per release, never while tuning. Prints Markdown and writes bench/results/<date>-matching-frozen.md.
The end-to-end figure through `import_listings` and `match --all --json` is bench/eval_pipeline.py --sheet.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import eval_matching as em  # noqa: E402

TEST = ROOT / "bench" / "data" / "exchange_independent" / "test"
RANKERS = (*em.COMPONENTS, ("shipped (learned model over the fused candidates)", "hybrid"))


def main() -> None:
    em.SETS["independent-test"] = (TEST, "listings", "qrels", "negatives")
    started = time.perf_counter()
    prep = em.prepare("independent-test", em.CachedE5())
    rows = [(name, em.evaluate_ranker(prep, ranker, prep.needs)) for name, ranker in RANKERS]
    lines = [
        f"# Matching on the frozen independent test set — {date.today().isoformat()}",
        "",
        f"{len(em.judged(prep.needs))} judged needs, {len(prep.docs)} listings; nothing fitted on this set. "
        f"Engine only (the pipeline figure is in the -independent-test report); {time.perf_counter() - started:.0f} s.",
        "",
        em.table(rows),
        "",
        "Reproduce: `.venv/bin/python bench/eval_frozen.py`",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    out = em.RESULTS / f"{date.today().isoformat()}-matching-frozen.md"
    out.write_text(text, encoding="utf-8")
    print(f"written to {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
