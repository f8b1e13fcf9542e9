"""Time our Versit tokenizer (Cython and pure Python) against vobject.

    python benchmarks/versit_compare.py [-n CONTACTS] [-r ROUNDS] [--no-vobject]

Inputs: ``n`` generated contacts (default 10,000) of 13 properties, as vCard
2.1 (three QUOTED-PRINTABLE properties with CHARSET and soft line breaks,
nameless parameters, an ``item1.`` group) and as vCard 3.0 (escaped, folded
at 75), like ``shared/reference/formats.md`` section 9.  Two patterns:

* ``items``: each contact parsed and serialized on its own (a sync server
  handling one Add at a time); vobject: ``readOne`` + ``serialize``.
* ``file``: all contacts as one file, one parse and one serialize; vobject:
  ``readComponents`` + ``serialize`` of each.

Each round times every contender once, interleaved; figures are medians
over the rounds and ratios are medians of the per-round ratios against
vobject.  Our output is checked to be byte-identical to the input; for
vobject the script reports how many items differ (it re-folds, reorders,
drops nameless parameters and QP).  vobject is a benchmark-only dependency
(``pip install vobject``); without it its rows are skipped.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _versit as V

TARGET = 20.0  # Cython parse + serialize vs vobject


def timed(fn: Callable[[Any], Any], arg: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn(arg)
    return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10_000, help="contacts per version (default 10000)")
    ap.add_argument("-r", "--rounds", type=int, default=5, help="rounds (default 5)")
    ap.add_argument("--vobject-rounds", type=int, default=3, help="rounds that include vobject (default 3)")
    ap.add_argument("--no-vobject", action="store_true", help="skip vobject")
    args = ap.parse_args(argv)

    tokenizers = V.tokenizers()
    vobject = None if args.no_vobject else V.vobject_module()
    print(f"contacts: {args.n} per version; rounds: {args.rounds} (vobject in the first "
          f"{args.vobject_rounds}); Python {sys.version.split()[0]}")
    print("ours: " + ", ".join(tokenizers) + ("" if "cython" in tokenizers else " (extension not built)"))
    print("vobject: " + (f"{vobject.VERSION if hasattr(vobject, 'VERSION') else '?'}" if vobject
                         else "not installed (pip install vobject) or --no-vobject: skipped"))
    failed = False
    for version in ("2.1", "3.0"):
        items = V.contacts(version, args.n)
        data = b"".join(items)
        contenders: dict[tuple[str, str], tuple[Callable[[Any], Any], Any, Any]] = {}
        for name, tok in tokenizers.items():
            contenders[("items", name)] = (V.ours(tok), items, items)
            contenders[("file", name)] = (V.ours_file(tok), data, data)
        if vobject is not None:
            contenders[("items", "vobject")] = (V.vobject_items(vobject), items, None)
            contenders[("file", "vobject")] = (V.vobject_file(vobject), data, None)
        times: dict[tuple[str, str], list[float]] = {k: [] for k in contenders}
        ratios: dict[tuple[str, str], list[float]] = {k: [] for k in contenders}
        same: dict[tuple[str, str], str] = {}
        for rnd in range(args.rounds):
            this: dict[tuple[str, str], float] = {}
            for key, (fn, arg, expected) in contenders.items():
                if key[1] == "vobject" and rnd >= args.vobject_rounds:
                    continue
                secs, out = timed(fn, arg)
                this[key] = secs
                times[key].append(secs)
                if rnd == 0:
                    if expected is not None:
                        same[key] = "byte-identical" if out == expected else "DIFFERS"
                        failed |= out != expected
                    elif key[0] == "items":
                        diff = sum(o != i for o, i in zip(out, items, strict=True))
                        same[key] = f"{diff} of {len(items)} items differ"
                    else:
                        same[key] = "differs" if out != arg else "byte-identical"
            for key, secs in this.items():
                base = this.get((key[0], "vobject"))
                if base is not None:
                    ratios[key].append(base / secs)
        print(f"\nvCard {version}: {len(items)} contacts, {len(data) / 1e6:.1f} MB")
        print(f"{'pattern':8} {'contender':9} {'median s':>9} {'items/s':>10} {'x vobject':>10}  output")
        for key in contenders:
            med = statistics.median(times[key])
            ratio = f"{statistics.median(ratios[key]):.1f}" if ratios[key] else "-"
            print(f"{key[0]:8} {key[1]:9} {med:9.3f} {len(items) / med:10,.0f} {ratio:>10}  {same[key]}")
            if key[1] == "cython" and ratios[key] and statistics.median(ratios[key]) < TARGET:
                print(f"  below the target of {TARGET:.0f}x vobject")
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
