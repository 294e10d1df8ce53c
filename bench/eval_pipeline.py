"""Evaluate matching through the real pipeline: fresh database → import_listings → match --all --json.

    .venv/bin/python bench/eval_pipeline.py                      # main and held-out sets
    .venv/bin/python bench/eval_pipeline.py --sets heldout       # one set
    .venv/bin/python bench/eval_pipeline.py --sheet X.xlsx --qrels X.jsonl --name independent

For each set: a fresh SQLite database (`--workdir`, default var/evalpipe) and a fresh matching index
directory, `manage.py migrate`, one root federation, `manage.py import_listings SHEET` (published, embedded
in batches), then `manage.py match --all --json --top 10` in a NEW process (so the engine is built from the
database exactly as on a fresh app server). The JSON lines are scored against the qrels: recall@10 and
nDCG@10 (gain 2^grade − 1) over every need in the qrels (a need missing from the output scores 0), and the
hard-negative rate (share of needs with a hard negative in their top 10) when a negatives file is given.
Prints a Markdown table and writes bench/results/<date>-matching-pipeline.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "exchange"
DEV = ROOT / "bench" / "data" / "exchange_independent" / "dev"
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
SETS = {
    "dev": (DEV / "listings.xlsx", DEV / "qrels.jsonl", DEV / "negatives.jsonl"),
    "main": (DATA / "listings.xlsx", DATA / "qrels.jsonl", DATA / "negatives.jsonl"),
    "heldout": (DATA / "heldout_listings.xlsx", DATA / "heldout_qrels.jsonl", DATA / "heldout_negatives.jsonl"),
}


@dataclass
class Run:
    """One set through the pipeline: timings, metrics and the commands that produced them."""

    name: str
    sheet: Path
    listings: int = 0
    needs: int = 0
    missing: int = 0
    recall: float = 0.0
    ndcg: float = 0.0
    hard_negative_rate: float | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)


def dcg(gains: list[float]) -> float:
    return sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))


def score(lines: list[dict], qrels: list[dict], negatives: dict[str, set[str]], k: int = 10) -> dict[str, float]:
    """Return mean recall@k, nDCG@k and the hard-negative rate over the needs of the qrels."""
    ranked = {str(line["listing"]): [str(m["listing"]) for m in line["matches"]][:k] for line in lines}
    recalls, ndcgs, hard = [], [], []
    missing = 0
    for judgement in qrels:
        need = str(judgement["need"])
        relevant = {key: grade for key, grade in judgement["relevant"].items() if grade > 0}
        got = ranked.get(need)
        if got is None:
            missing += 1
            got = []
        recalls.append(len(set(got) & set(relevant)) / len(relevant) if relevant else 0.0)
        ideal = dcg(sorted((2.0**grade - 1 for grade in relevant.values()), reverse=True)[:k])
        ndcgs.append(dcg([2.0 ** relevant.get(key, 0) - 1 for key in got]) / ideal if ideal else 0.0)
        if negatives:
            hard.append(1.0 if negatives.get(need, set()) & set(got) else 0.0)
    count = max(len(qrels), 1)
    return {
        "recall": sum(recalls) / count,
        "ndcg": sum(ndcgs) / count,
        "hard": sum(hard) / count if negatives else -1.0,
        "needs": len(qrels),
        "missing": missing,
    }


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _manage(env: dict[str, str], run: Run, step: str, *args: str, capture: bool = False) -> str:
    command = [PYTHON, str(ROOT / "manage.py"), *args]
    shown = shlex.join(["manage.py", *args])
    run.commands.append(shown)
    print(f"  $ {shown}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    completed = subprocess.run(
        command, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE if capture else None, check=False
    )
    run.seconds[step] = run.seconds.get(step, 0.0) + time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{shown} failed with exit code {completed.returncode}")
    return completed.stdout or ""


def run_set(name: str, sheet: Path, qrels_path: Path, negatives_path: Path | None, workdir: Path, top: int) -> Run:
    run = Run(name=name, sheet=sheet)
    directory = workdir / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    database = directory / "db.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "MATCHING_INDEX_DIR": str(directory / "matching"),  # never a snapshot of another database
        "TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
    }
    env.pop("QIAOLIANG_ENV", None)
    print(f"[{name}] {sheet.relative_to(ROOT) if sheet.is_relative_to(ROOT) else sheet}", file=sys.stderr)
    _manage(env, run, "migrate", "migrate", "--verbosity", "0")
    _manage(
        env, run, "federation", "shell", "-c",
        "from qiaoliang.orgs import services; "
        "services.create_organization(actor=None, code='EVAL', name='评测工商联', kind='federation')",
    )  # fmt: skip
    printed = _manage(env, run, "import", "import_listings", str(sheet), capture=True)
    print(printed, end="", file=sys.stderr)
    for pattern, step in ((r"Imported in ([\d.]+) s", "import rows"), (r"for matching in ([\d.]+) s", "embedding")):
        found = re.search(pattern, printed)
        if found:
            run.seconds[step] = float(found.group(1))
    output = _manage(env, run, "match", "match", "--all", "--json", "--top", str(top), capture=True)
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    (directory / "matches.jsonl").write_text(output, encoding="utf-8")
    negatives: dict[str, set[str]] = {}
    if negatives_path is not None and negatives_path.exists():
        negatives = {row["need"]: set(row["hard_negatives"]) for row in _jsonl(negatives_path)}
    metrics = score(lines, _jsonl(qrels_path), negatives, k=10)
    run.listings = len(lines)
    run.needs = int(metrics["needs"])
    run.missing = int(metrics["missing"])
    run.recall, run.ndcg = metrics["recall"], metrics["ndcg"]
    run.hard_negative_rate = metrics["hard"] if metrics["hard"] >= 0 else None
    return run


def report(runs: list[Run], workdir: Path, reproduce: str = "") -> str:
    today = date.today().isoformat()
    lines = [
        f"# Matching through the pipeline — {today}",
        "",
        "Each set is imported into a fresh SQLite database with `import_listings` and matched with "
        "`match --all --json --top 10` in a new process (engine built from the database), as an independent "
        "held-out set will be run. Scores over every need in the qrels; a need missing from the output counts 0.",
        "",
        "| set | listings matched | needs | missing | recall@10 | nDCG@10 | hard-neg@10 | import s (rows / embedding) "
        "| match s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        hard = f"{run.hard_negative_rate:.3f}" if run.hard_negative_rate is not None else "—"
        lines.append(
            f"| {run.name} | {run.listings} | {run.needs} | {run.missing} | {run.recall:.3f} | {run.ndcg:.3f} | "
            f"{hard} | {run.seconds.get('import', 0):.1f} ({run.seconds.get('import rows', 0):.1f} / "
            f"{run.seconds.get('embedding', 0):.1f}) | {run.seconds.get('match', 0):.1f} |"
        )
    lines += ["", "Import time is the whole command (process start-up, validating and writing the rows, embedding the",
              "listings); match time includes process start-up, building the engine from the database and embedding",
              "every listing as an e5 query. Hard-neg@10: share of needs with at least one hard negative",
              "(negatives.jsonl: wrong direction, region, category, type, chain link or sector) in their top 10.", "",
              "Commands (per set, in "
              f"`{workdir}/<set>/`, with `DATABASE_URL=sqlite:///{workdir}/<set>/db.sqlite3` and "
              f"`MATCHING_INDEX_DIR={workdir}/<set>/matching`):", ""]  # fmt: skip
    for run in runs:
        lines.append(f"- {run.name}:")
        lines += [f"  - `{command}`" for command in run.commands]
    reproduce = reproduce or f"--sets {','.join(r.name for r in runs)}"
    lines += ["", f"Reproduce: `.venv/bin/python bench/eval_pipeline.py {reproduce}`", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="dev,main,heldout", help="comma-separated: dev, main, heldout")
    parser.add_argument("--sheet", type=Path, help="evaluate this sheet instead (with --qrels)")
    parser.add_argument("--qrels", type=Path, help="qrels of --sheet")
    parser.add_argument("--negatives", type=Path, help="hard negatives of --sheet (optional)")
    parser.add_argument("--name", default="custom", help="name of the --sheet set in the report")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "evalpipe")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--out", type=Path, help="Markdown output (default bench/results/<date>-matching-pipeline.md)")
    args = parser.parse_args()

    runs: list[Run] = []
    if args.sheet:
        if not args.qrels:
            parser.error("--sheet needs --qrels")
        runs.append(run_set(args.name, args.sheet.resolve(), args.qrels, args.negatives, args.workdir, args.top))
    else:
        for name in [part.strip() for part in args.sets.split(",") if part.strip()]:
            if name not in SETS:
                parser.error(f"unknown set {name!r}; choose from {', '.join(SETS)}")
            sheet, qrels, negatives = SETS[name]
            runs.append(run_set(name, sheet, qrels, negatives, args.workdir, args.top))
    reproduce = ""
    if args.sheet:
        reproduce = f"--sheet {args.sheet} --qrels {args.qrels} --name {args.name}"
        reproduce += f" --negatives {args.negatives}" if args.negatives else ""
    text = report(runs, args.workdir, reproduce)
    print(text)
    out = args.out or RESULTS / f"{date.today().isoformat()}-matching-pipeline.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
