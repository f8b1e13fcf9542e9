"""Time our WBXML codecs against libwbxml (C) and lxml in one run.

    python benchmarks/compare.py [-n PASSES] [-r RUNS] [--c-bench]

Each contender converts libwbxml's 16-message corpus N times per run; the
figure is the median of R runs, in messages per second.  libwbxml is called
in-process through ctypes (one converter per message, as its own tools do);
``--c-bench`` also runs ``../shared/tools/wbxml_bench`` (pure C, no Python
call overhead) on the same files, built with make if needed.
Ratios are against libwbxml measured in this same run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _contenders as K

TARGETS = {  # (direction, implementation): minimum ratio to libwbxml
    ("WBXML->XML", "cython"): 5.0,
    ("XML->WBXML", "cython"): 3.0,
    ("WBXML->XML", "python"): 0.5,
}


def rate(fn: Callable[[bytes], object], inputs: list[bytes], passes: int, runs: int) -> float:
    for data in inputs:  # warm up
        fn(data)
    results = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(passes):
            for data in inputs:
                fn(data)
        results.append(passes * len(inputs) / (time.perf_counter() - start))
    return statistics.median(results)


def c_bench(passes: int, runs: int) -> dict[str, float]:
    tool = K.ROOT.parent / "shared" / "tools" / "wbxml_bench"
    exe = tool / "wbxml_bench"
    if not exe.exists():
        subprocess.run(["make", "-s", "-C", str(tool)], check=True, capture_output=True)
    c = K.LIBWBXML_CORPUS
    out = {}
    for label, files in [("WBXML->XML", sorted(c.glob("gen/wbxml/*/*.wbxml"))),
                         ("XML->WBXML", sorted(c.glob("syncml/*.xml")) + sorted(c.glob("ddf/*")))]:
        proc = subprocess.run([str(exe), "-n", str(passes), "-r", str(runs), *map(str, files)],
                              check=True, capture_output=True, text=True)
        m = re.search(r"median: [\d.]+ s\s+([\d.]+) msgs/s", proc.stdout)
        out[label] = float(m.group(1)) if m else float("nan")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--passes", type=int, default=200)
    ap.add_argument("-r", "--runs", type=int, default=5)
    ap.add_argument("--c-bench", action="store_true", help="also run the pure-C libwbxml benchmark")
    args = ap.parse_args(argv)

    wbxml_in, xml_in = K.wbxml_inputs(), K.xml_inputs()
    if not wbxml_in:
        print(f"corpus not found under {K.LIBWBXML_CORPUS}", file=sys.stderr)
        return 2
    impls = K.implementations()
    lib = K.libwbxml()
    rows: list[tuple[str, str, float]] = []
    for direction, inputs, method in [("WBXML->XML", wbxml_in, "wbxml_to_xml"),
                                      ("XML->WBXML", xml_in, "xml_to_wbxml")]:
        if lib is not None:
            rows.append((direction, "libwbxml (ctypes)", rate(getattr(lib, method), inputs, args.passes, args.runs)))
        for name, mod in impls.items():
            passes = args.passes if name == "cython" else max(1, args.passes // 10)
            rows.append((direction, name, rate(getattr(mod, method), inputs, passes, args.runs)))
    rows.append(("XML->XML", "lxml parse+serialize", rate(K.lxml_round_trip(), xml_in, args.passes, args.runs)))
    if args.c_bench:
        for direction, value in c_bench(max(args.passes, 500), args.runs).items():
            rows.append((direction, "libwbxml (C bench)", value))

    base = {d: v for d, n, v in rows if n == "libwbxml (ctypes)"}
    c_base = {d: v for d, n, v in rows if n == "libwbxml (C bench)"}
    print(f"{len(wbxml_in)} messages per pass; median of {args.runs} runs; Python {sys.version.split()[0]}")
    print(f"{'direction':<11} {'contender':<22} {'msgs/s':>10} {'x libwbxml':>11} {'x C bench':>10}  target")
    failed = False
    for direction, name, value in rows:
        ratio = value / base[direction] if direction in base else float("nan")
        c_ratio = value / c_base[direction] if direction in c_base else float("nan")
        target = TARGETS.get((direction, name))
        mark = ""
        if target is not None:
            worst = min(r for r in (ratio, c_ratio) if r == r) if ratio == ratio else float("nan")
            ok = worst >= target
            failed |= not ok
            mark = f">= {target}x {'ok' if ok else 'MISSED'}"
        print(f"{direction:<11} {name:<22} {value:>10,.0f} {ratio:>11.2f} {c_ratio:>10.2f}  {mark}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
