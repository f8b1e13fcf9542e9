"""Time every conversion of the conversion sweep (issue 9) and list the
slowest inputs: a report, not a test (nothing here fails a build).

    python benchmarks/convert_fuzz_report.py [--seeds 1 2 3] [--top 15] [--impl cython python]

Inputs (``tests/formats/convert_sweep.py``): every item of the corpus
(``../shared/corpus/formats`` and ``tests/data``), the hand-made poison items
of issue 9 and all seeded mutations of the corpus items, each parsed and
converted to every registered content type (``formats.registered_types()``)
with each Versit implementation.  One timing covers ``parse`` + ``convert``
+ ``serialize`` of one input to one target.  The target is that no input
takes more than 100 ms; the report prints the slowest, the count over
100 ms, and every exception that is not one of the library's own (with the
converters' boundary, ``formats._guard``, undone: such a case counts too).

A single timing also holds whatever the machine did meanwhile (a garbage
collection, another process on the core), so every conversion that took
over 100 ms, and the slowest ``--top``, are timed ``--repeat`` times more
and ranked by their best time: the input's own cost.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.formats import convert_sweep as sweep  # noqa: E402

from syncml_codec.formats import versit  # noqa: E402

LIMIT = 0.100


def tokenizers(names: list[str]) -> list[versit.Tokenizer]:
    out = []
    for name in names:
        if name == "python":
            out.append(versit.PYTHON)
        elif versit.IMPLEMENTATION == "cython":
            from syncml_codec.formats import _versit
            out.append(versit.cython_tokenizer(_versit))
        else:
            print("(the Cython extension is not built: its rows are skipped)")
    return out


def _time(case: sweep.Case, target: str) -> float:
    t0 = time.perf_counter()
    with contextlib.suppress(Exception):  # counted in the sweep itself
        sweep.run(case, target)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--impl", nargs="*", default=["cython", "python"])
    ap.add_argument("--repeat", type=int, default=5, help="timings of each slow conversion (the best counts)")
    args = ap.parse_args()

    corpus = sweep.corpus_items()
    cases = corpus + sweep.hostile()
    for seed in args.seeds:
        cases += sweep.mutated(corpus, seed)
    targets = sweep.targets()
    print(f"inputs: {len(corpus)} corpus items, {len(sweep.HOSTILE)} poison items, "
          f"{len(cases) - len(corpus) - len(sweep.HOSTILE)} mutations (seeds {args.seeds}); "
          f"{len(targets)} target types")

    for impl in tokenizers(args.impl):
        versit._IMPL = impl
        timings: list[tuple[float, sweep.Case, str]] = []
        errors: collections.Counter[str] = collections.Counter()
        examples: dict[str, str] = {}
        leaks = 0
        started = time.perf_counter()
        for case in cases:
            for target in targets:
                t0 = time.perf_counter()
                try:
                    data = sweep.run(case, target)
                except Exception as exc:
                    key = f"{type(exc).__name__}"
                    errors[key] += 1
                    examples.setdefault(key, f"{case.name} -> {target}: {str(exc)[:80]}")
                    data = None
                timings.append((time.perf_counter() - t0, case, target))
                if data is not None and sweep.REPR_LEAK.search(data) and not sweep.REPR_LEAK.search(case.data):
                    leaks += 1
        total = time.perf_counter() - started
        count = len(timings)
        timings.sort(key=lambda row: row[0], reverse=True)
        first_over = sum(1 for t, _c, _t in timings if t > LIMIT)
        suspects = [row for i, row in enumerate(timings) if i < args.top or row[0] > LIMIT]
        timings = sorted(((min(_time(case, target) for _ in range(args.repeat)), case, target)
                          for _t, case, target in suspects), key=lambda row: row[0], reverse=True)
        over = sum(1 for t, _c, _t in timings if t > LIMIT)
        print(f"\n[{impl.name}] {count} conversions in {total:.1f} s; "
              f"exceptions outside the error tree: {sum(errors.values())}; repr leaks: {leaks}; "
              f"over {LIMIT * 1000:.0f} ms: {over} (best of {args.repeat}; {first_over} on the first timing)")
        for key, n in errors.most_common():
            print(f"  {n} x {key}, e.g. {examples[key]}")
        print(f"  slowest {args.top} (best of {args.repeat}):")
        for t, case, target in timings[: args.top]:
            print(f"  {t * 1000:8.1f} ms  {case.name} -> {target}")

    bomb = next(c for c in sweep.hostile() if c.name == "rrule-hourly-bomb")
    tracemalloc.start()
    t0 = time.perf_counter()
    sweep.run(bomb, "text/x-vcalendar")
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"\nFREQ=HOURLY;COUNT=99999999999 -> vCalendar 1.0: {elapsed * 1000:.1f} ms "
          f"(under tracemalloc), peak {peak / 2**10:.0f} KiB")


if __name__ == "__main__":
    main()
