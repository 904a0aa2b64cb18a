"""Indian digit grouping (`1,18,000`), the one formatter every writer of numbers uses.

Kept free of heavy imports so that light callers (the demo world generator) can use it
without loading the drafting stack.
"""

from __future__ import annotations


def indian_grouping(value: float, decimals: int = 2) -> str:
    """`118000` -> `1,18,000`; `2450.5` -> `2,450.50`; whole numbers drop the decimals."""
    negative = value < 0
    value = abs(value)
    rounded = round(value, decimals)
    if rounded == int(rounded):
        whole, frac = str(int(rounded)), ""
    else:
        whole, frac = f"{rounded:.{decimals}f}".split(".")
        frac = "." + frac
    if len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        whole = ",".join([*groups, tail])
    return ("-" if negative else "") + whole + frac
