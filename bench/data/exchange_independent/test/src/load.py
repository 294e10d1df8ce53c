"""Load all hand-written batch files (b*.py) and the cross-batch judgement file."""

import glob
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def load():
    ents, rows, qrels, neg = {}, [], {}, {}
    files = sorted(glob.glob(os.path.join(HERE, "b[0-9]*.py"))) + [os.path.join(HERE, "cross.py")]
    for f in files:
        if not os.path.exists(f):
            continue
        spec = importlib.util.spec_from_file_location(os.path.basename(f)[:-3], f)
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        for k, v in getattr(m, "ENTS", {}).items():
            assert k not in ents, ("dup ent", k)
            ents[k] = v
        for r in getattr(m, "ROWS", []):
            assert len(r) == 10, r[0]
            rows.append(r)
        for n, d in getattr(m, "QRELS", {}).items():
            qrels.setdefault(n, {}).update(d)
        for n, d in getattr(m, "NEG", {}).items():
            neg.setdefault(n, {}).update(d)
        for n, d in getattr(m, "DROP_NEG", {}).items():
            for o in d:
                neg.get(n, {}).pop(o, None)
    return ents, rows, qrels, neg
