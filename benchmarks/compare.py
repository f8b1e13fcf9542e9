"""Time our WBXML codecs against libwbxml (C) and lxml in one run.

    python benchmarks/compare.py [-n PASSES] [-r RUNS] [--c-bench]

Each round times every contender once, interleaved, on libwbxml's
16-message corpus (N passes for our Cython codec, fewer for the slower
contenders); figures are medians over R rounds, and ratios are medians of
the ratios within each round, so a noisy spell of the machine hits all
contenders alike.  libwbxml is called
in-process through ctypes (one converter per message, as its own tools do);
``--c-bench`` also runs ``../shared/tools/wbxml_bench`` (pure C, no Python
call overhead) on the same files, built with make if needed.
Ratios are against libwbxml measured in this same run.

The message model rows time the public API on libwbxml's SyncML messages
(all but the DevInf document and the two fragments): ``WBXML->Message`` is
``Message.from_bytes`` and ``Message->WBXML`` is ``message.to_bytes()``.
They are compared with libwbxml's matching direction (WBXML->XML and
XML->WBXML) in the same round: typed objects from WBXML at least twice as
fast as libwbxml makes XML text, WBXML from typed objects at least five
times as fast as libwbxml makes it from XML.
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _contenders as K

TARGETS = {  # (direction, implementation): minimum ratio to libwbxml
    ("WBXML->XML", "cython"): 5.0,
    ("XML->WBXML", "cython"): 3.0,
    ("WBXML->XML", "python"): 0.5,
    ("WBXML->Message", "cython"): 2.0,
    ("Message->WBXML", "cython"): 5.0,
}
# the libwbxml direction each of our directions is measured against
BASELINE = {"WBXML->Message": "WBXML->XML", "Message->WBXML": "XML->WBXML"}


def timed(fn: Callable[[Any], object], inputs: list[Any], passes: int) -> float:
    """Messages per second over ``passes`` passes of ``inputs``."""
    start = time.perf_counter()
    for _ in range(passes):
        for data in inputs:
            fn(data)
    return passes * len(inputs) / (time.perf_counter() - start)


def c_bench_once(files: list[Path], passes: int) -> float:
    """One run of the pure-C libwbxml benchmark: messages per second."""
    tool = K.ROOT.parent / "shared" / "tools" / "wbxml_bench"
    exe = tool / "wbxml_bench"
    if not exe.exists():
        subprocess.run(["make", "-s", "-C", str(tool)], check=True, capture_output=True)
    proc = subprocess.run([str(exe), "-n", str(passes), "-r", "1", *map(str, files)],
                          check=True, capture_output=True, text=True)
    m = re.search(r"median: [\d.]+ s\s+([\d.]+) msgs/s", proc.stdout)
    return float(m.group(1)) if m else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--passes", type=int, default=400)
    ap.add_argument("-r", "--runs", type=int, default=9)
    ap.add_argument("--c-bench", action="store_true", help="also run the pure-C libwbxml benchmark")
    args = ap.parse_args(argv)

    wbxml_in, xml_in = K.wbxml_inputs(), K.xml_inputs()
    if not wbxml_in:
        print(f"corpus not found under {K.LIBWBXML_CORPUS}", file=sys.stderr)
        return 2
    c = K.LIBWBXML_CORPUS
    files = {"WBXML->XML": sorted(c.glob("gen/wbxml/*/*.wbxml")),
             "XML->WBXML": sorted(c.glob("syncml/*.xml")) + sorted(c.glob("ddf/*"))}
    lib = K.libwbxml()
    # (direction, contender) -> (function, inputs, passes); the Python twin
    # gets fewer passes so that each contender runs for a similar time
    contenders: dict[tuple[str, str], tuple[Callable[[Any], object], list[Any], int]] = {}
    for direction, inputs, method in [("WBXML->XML", wbxml_in, "wbxml_to_xml"),
                                      ("XML->WBXML", xml_in, "xml_to_wbxml")]:
        if lib is not None:
            contenders[direction, "libwbxml (ctypes)"] = (getattr(lib, method), inputs, args.passes // 4)
        for name, mod in K.implementations().items():
            passes = args.passes if name == "cython" else max(1, args.passes // 40)
            contenders[direction, name] = (getattr(mod, method), inputs, passes)
    contenders["XML->XML", "lxml parse+serialize"] = (K.lxml_round_trip(), xml_in, args.passes // 4)
    messages = K.message_inputs()
    for name, (read, write) in K.message_contenders().items():
        passes = args.passes if name == "cython" else max(1, args.passes // 40)
        objects = [read(data) for data in messages]
        contenders["WBXML->Message", name] = (read, messages, passes)
        contenders["Message->WBXML", name] = (write, objects, passes)
    for fn, inputs, _ in contenders.values():  # warm up
        for data in inputs:
            fn(data)

    # interleaved: every contender once per round, so a noisy spell of the
    # machine hits all of them; ratios are taken within each round
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in contenders}
    for _ in range(args.runs):
        for key, (fn, inputs, passes) in contenders.items():
            samples[key].append(timed(fn, inputs, passes))
        if args.c_bench:
            for direction, paths in files.items():
                samples.setdefault((direction, "libwbxml (C bench)"), []).append(
                    c_bench_once(paths, max(args.passes // 4, 100)))

    def ratio(key: tuple[str, str], base: str) -> float:
        ref = samples.get((BASELINE.get(key[0], key[0]), base))
        if not ref:
            return float("nan")
        return statistics.median(a / b for a, b in zip(samples[key], ref, strict=True))

    print(f"{len(wbxml_in)} messages per pass ({len(messages)} for the Message rows); "
          f"{args.runs} interleaved rounds; medians; "
          f"Python {sys.version.split()[0]}")
    print(f"{'direction':<14} {'contender':<22} {'msgs/s':>10} {'x libwbxml':>11} {'x C bench':>10}  target")
    failed = False
    for key, values in samples.items():
        direction, name = key
        vs_lib, vs_c = ratio(key, "libwbxml (ctypes)"), ratio(key, "libwbxml (C bench)")
        target = TARGETS.get(key)
        mark = ""
        if target is not None:
            measured = [r for r in (vs_lib, vs_c) if r == r]
            ok = bool(measured) and min(measured) >= target
            failed |= not ok
            mark = f">= {target}x {'ok' if ok else 'MISSED'}"
        print(f"{direction:<14} {name:<22} {statistics.median(values):>10,.0f} {vs_lib:>11.2f} {vs_c:>10.2f}  {mark}")
    return 1 if failed else 0

if __name__ == "__main__":
    raise SystemExit(main())
