"""USCC (GB 32100-2015) helpers, written from /work/shared/data/zj-org-registry-uscc/USCC-ALGORITHM.md."""

import hashlib

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 symbols, no I O S V Z
VAL = {c: i for i, c in enumerate(CHARSET)}
W18 = [pow(3, i, 31) for i in range(17)]
ORG_W = [3, 7, 9, 10, 5, 8, 4, 2]


def org_val(c):
    return int(c) if c.isdigit() else ord(c) - 55  # A=10 ... Z=35


def org_check(body8):
    s = sum(org_val(c) * w for c, w in zip(body8, ORG_W))
    c = 11 - s % 11
    return "X" if c == 10 else ("0" if c == 11 else str(c))


def uscc_check(first17):
    s = sum(VAL[c] * w for c, w in zip(first17, W18))
    c = 31 - s % 31
    return CHARSET[0 if c == 31 else c]


def is_valid(code):
    if len(code) != 18 or any(c not in VAL for c in code):
        return False
    return uscc_check(code[:17]) == code[17]


def make_uscc(name, region):
    """Deterministic USCC for an enterprise name: 91 + region + org code + check."""
    h = hashlib.sha256(name.encode("utf-8")).digest()
    if h[0] % 3 == 0:  # old style numeric organisation code
        body = "".join(str(b % 10) for b in h[1:9])
        body = "7" + body[1:] if body[0] == "0" else body
    else:  # MA-style code issued after 2015
        body = "MA" + "".join(CHARSET[b % 31] for b in h[1:7])
    org = body + org_check(body)
    first17 = "91" + region + org
    return first17 + uscc_check(first17)
