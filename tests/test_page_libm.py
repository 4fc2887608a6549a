"""The live page's exp, log, pow, sin, cos and tanh (render/page/libm.js) give the bits that
Python's math module gives, i.e. the C library's (glibc), so the page computes what `grad`
computes.

The truth here is the C library itself, called through the primitives `grad` runs
(core/backend.REAL) or through ctypes: never libm.js's own output. glibc picks its fused
multiply-add build of these functions on a CPU that has FMA, its plain build elsewhere; both
are checked, the other one by running Python with glibc told to ignore FMA
(GLIBC_TUNABLES=glibc.cpu.hwcaps=-FMA,-AVX2,-FMA4). The exp table is checked against
2^(k/128) at 50 digits. Quick runs here; millions of inputs under `-m slow`; one run in
Chromium (V8, as node) under `-m browser`.
"""

from __future__ import annotations

import array
import ctypes
import ctypes.util
import json
import math
import os
import platform
import random
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from test_page import browser  # noqa: F401 (the Chromium fixture)

from circuitcli.render import libm as page_libm

LIBM_JS = Path(page_libm.__file__).parent / "page" / "libm.js"
NODE = os.environ.get("NODE") or next(
    (p for p in ("/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs") if os.path.exists(p)),
    None)
FUNCTIONS = {"exp": 1, "log": 1, "pow": 2, "sin": 1, "cos": 1, "tanh": 1}
NO_FMA = "glibc.cpu.hwcaps=-FMA,-AVX2,-FMA4"

needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


# ---- inputs: random over every branch of each algorithm, and the edges ------------------------

def _any_double(rnd: random.Random) -> float:
    return struct.unpack("<d", struct.pack("<Q", rnd.getrandbits(64)))[0]


EDGES = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-310, 2.0**-54, 2.0**-26,
         2.0**-27, 0.125, 0.126, 0.5, 0.855469, 1.0, -1.0, 1.5, 2.0, 2.426265, 3.0, 22.0,
         -22.0, 0.9375, 1.064697265625, 1 - 2**-53, 1 + 2**-52, 512.0, -512.0, 708.0,
         709.782712893384, 709.79, -708.4, -745.1332191019411, -745.14, -746.0, 1024.0,
         -1024.0, 105414350.0, 105414351.0, 1e22, 1e300, -1e300, 1.7976931348623157e308,
         math.pi, math.pi / 2, -math.pi, math.e, 0.1, -0.3, 7.0, -7.5, 100.0, 1e-8, -1e-200,
         math.inf, -math.inf, math.nan]


def inputs(name: str, n: int, seed: int) -> list[tuple[float, ...]]:
    rnd = random.Random(f"{name}-{seed}")
    u = rnd.uniform
    if name == "pow":
        gens = [lambda: (10 ** u(-5, 5), u(-50, 50)), lambda: (u(0, 3), u(-3, 3)),
                lambda: (10 ** u(-300, 300), u(-2, 2)),
                lambda: (u(-10, 10), float(rnd.randint(-60, 60))),
                lambda: (abs(_any_double(rnd)), u(-1, 1) * 10 ** u(-25, 25)),
                lambda: (10 ** u(-323, -308), u(-1.2, 1.2)),
                lambda: (u(0.5, 2), u(-1, 1) * 10 ** u(0, 4)),
                lambda: (rnd.choice(EDGES), rnd.choice(EDGES))]
    else:
        spans = {"exp": [(-746, 710), (-3, 3), (-760, -700), (500, 710), (-710, -500)],
                 "log": [(0, 10), (0.9, 1.1), (0, 1e-307), (0, 1e300)],
                 "sin": [(-10, 10), (-1e6, 1e6), (-2e8, 2e8)],
                 "cos": [(-10, 10), (-1e6, 1e6), (-2e8, 2e8)],
                 "tanh": [(-3, 3), (-25, 25), (-0.6, 0.6)]}[name]
        gens = [lambda a=a, b=b: (u(a, b),) for a, b in spans]
        gens += [lambda: (rnd.choice([-1, 1]) * 10 ** u(-320, 308),), lambda: (_any_double(rnd),),
                 lambda: (rnd.choice(EDGES),)]
    return [gens[k % len(gens)]() for k in range(n)]


# ---- the two sides ------------------------------------------------------------------------------

def python_side(name: str, cases: list[tuple[float, ...]]) -> list[float | None]:
    """What grad's own primitives give (None where they raise: grad stops there)."""
    from circuitcli.core.backend import REAL

    fn = REAL.power if name == "pow" else getattr(REAL, name)
    out: list[float | None] = []
    for args in cases:
        try:
            out.append(fn(*args))
        except (ValueError, ZeroDivisionError, OverflowError):
            out.append(None)
    return out


_RUN_JS = r"""
const libm = (() => { %s; return libm; })();
const fs = require("fs");
const [inPath, outPath, name, arity, build] = process.argv.slice(1);
const b = fs.readFileSync(inPath);
const xs = new Float64Array(b.buffer, b.byteOffset, b.length / 8);
const n = xs.length / arity;
const fn = build === "fma" ? libm.fma
  : libm.make(build === "fused")[name === "pow" ? "power" : name];
const ys = new Float64Array(n);
for (let i = 0; i < n; i++) {
  ys[i] = arity == 1 ? fn(xs[i]) : arity == 2 ? fn(xs[2 * i], xs[2 * i + 1])
    : fn(xs[3 * i], xs[3 * i + 1], xs[3 * i + 2]);
}
fs.writeFileSync(outPath, Buffer.from(ys.buffer));
"""


def js_side(name: str, cases: list[tuple[float, ...]], build: str, tmp: Path) -> list[float]:
    """libm.js's answers, run by node: build "fused", "plain", or "fma" (libm.fma itself)."""
    flat = array.array("d", [x for args in cases for x in args])
    src, dst = tmp / f"{name}-{build}.in", tmp / f"{name}-{build}.out"
    src.write_bytes(flat.tobytes())
    script = _RUN_JS % LIBM_JS.read_text(encoding="utf-8")
    subprocess.run([NODE, "-e", script, str(src), str(dst), name, str(len(cases[0])), build],
                   check=True, timeout=1200)
    return array.array("d", dst.read_bytes()).tolist()


def bits(x: float) -> bytes:
    return b"nan" if x != x else struct.pack("<d", x)


def mismatches(name, cases, want, got) -> list:
    return [(args, w, g) for args, w, g in zip(cases, want, got)
            if w is not None and bits(w) != bits(g)]


def build_of(name: str) -> str:
    """The build this machine's math module uses for the function."""
    fused = page_libm.fused_builds()[name]
    if fused is None:
        pytest.skip(f"this C library's {name} is neither of glibc's builds: the page follows "
                    "glibc's, and may differ from Python here in last bits")
    return "fused" if fused else "plain"


def glibc_with_fma() -> bool:
    """glibc on x86_64 with FMA: the other build can be had by a tunable."""
    return (platform.machine() == "x86_64" and platform.libc_ver()[0] == "glibc"
            and all(v is True for v in page_libm.fused_builds().values()))


def other_build_python(name: str, cases: list[tuple[float, ...]]) -> list[float | None]:
    """python_side in a Python whose glibc ignores FMA (its plain build)."""
    payload = json.dumps([name, [list(a) for a in cases]])
    code = ("import json, sys, math\n"
            f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
            "from test_page_libm import python_side\n"
            "name, cases = json.loads(sys.stdin.read())\n"
            "out = python_side(name, [tuple(c) for c in cases])\n"
            "print(json.dumps([None if v is None else v.hex() for v in out]))\n")
    run = subprocess.run([sys.executable, "-c", code], input=payload, capture_output=True,
                         text=True, check=True, env=dict(os.environ, GLIBC_TUNABLES=NO_FMA))
    return [None if v is None else float.fromhex(v) for v in json.loads(run.stdout)]


# ---- quick checks -------------------------------------------------------------------------------

@needs_node
@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_page_gives_pythons_bits(name, tmp_path):
    build = build_of(name)
    cases = inputs(name, 3000, seed=1) + [(x,) * FUNCTIONS[name] for x in EDGES]
    want = python_side(name, cases)
    got = js_side(name, cases, build, tmp_path)
    bad = mismatches(name, cases, want, got)
    assert not bad, (len(bad), bad[:5])
    assert sum(w is not None for w in want) > 0.75 * len(cases)  # most inputs were compared


@needs_node
@pytest.mark.skipif(not glibc_with_fma(), reason="needs glibc on x86_64 with FMA")
@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_other_build_too(name, tmp_path):
    """The page written on a machine without FMA follows glibc's plain build: checked
    against glibc itself, told to ignore FMA."""
    cases = inputs(name, 1500, seed=2)
    want = other_build_python(name, cases)
    assert want != python_side(name, cases)  # the two builds do differ on these inputs
    bad = mismatches(name, cases, want, js_side(name, cases, "plain", tmp_path))
    assert not bad, (len(bad), bad[:5])


@needs_node
def test_probes_name_each_builds_result():
    """Each probe's two recorded results are the two builds' results, and differ."""
    script = ("const libm = (() => { " + LIBM_JS.read_text(encoding="utf-8")
              + "; return libm; })();\n"
              "const probes = JSON.parse(process.argv[1]);\n"
              "const builds = [libm.make(true), libm.make(false)];\n"
              "const out = {};\n"
              "for (const [name, cases] of Object.entries(probes)) out[name] = cases.map("
              "(args) => builds.map((b) => b[name === 'pow' ? 'power' : name](...args)));\n"
              "console.log(JSON.stringify(out));")
    probes = {name: [list(args) for args, _, _ in rows] for name, rows in page_libm.PROBES.items()}
    run = subprocess.run([NODE, "-e", script, json.dumps(probes)], capture_output=True,
                         text=True, check=True)
    got = json.loads(run.stdout)
    for name, rows in page_libm.PROBES.items():
        assert got[name] == [[f, p] for _, f, p in rows], name
        assert all(f != p for _, f, p in rows), name


def test_the_page_calls_libm_for_each_function():
    """The gate table's JavaScript takes these six from LIBM, never from V8's Math."""
    from circuitcli.render.js import gates_js

    source = gates_js()
    for prim in ("exp", "log", "sin", "cos", "tanh", "power"):
        assert f"const {prim} = LIBM.{prim};" in source, prim
    assert "const LIBM = libm.pick(" in source
    assert not re.search(r"Math\.(exp|log|pow|sin|cos|tanh|expm1)\b", source)


@pytest.mark.skipif(not glibc_with_fma(), reason="needs glibc on x86_64 with FMA")
def test_the_probe_tells_the_builds_apart():
    code = ("from circuitcli.render.libm import fused_builds; import json; "
            "print(json.dumps(fused_builds()))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, GLIBC_TUNABLES=NO_FMA))
    assert json.loads(run.stdout) == {name: False for name in FUNCTIONS}
    assert page_libm.fused_builds() == {name: True for name in FUNCTIONS}


def _c_fma():
    path = ctypes.util.find_library("m")
    if path is None:
        return None
    fma = ctypes.CDLL(path).fma
    fma.restype, fma.argtypes = ctypes.c_double, [ctypes.c_double] * 3
    return fma


@needs_node
@pytest.mark.skipif(_c_fma() is None, reason="no C library to compare fma with")
def test_fma_rounds_once(tmp_path):
    """libm.fma(a, b, c) is a * b + c rounded once: the C library's fma says so, on random
    numbers, on sums that cancel to the last bit, and on the over- and underflowing ones the
    exact (BigInt) path takes."""
    c_fma, rnd = _c_fma(), random.Random(3)
    cases = []
    def wide(lo, hi):
        return rnd.uniform(-2, 2) * 10 ** rnd.uniform(lo, hi)

    for _ in range(6000):
        a, b = wide(-150, 150), wide(-150, 150)
        near = -(a * b) * (1 + rnd.choice([0, 2**-53, -2**-53, 2**-52]))
        cases.append((a, b, near + rnd.choice([0.0, math.ulp(a * b) * rnd.uniform(-2, 2)])))
        cases.append((_any_double(rnd), _any_double(rnd), _any_double(rnd)))
        cases.append((wide(-160, -150), wide(-160, -150), wide(-312, -300)))
    cases += [(x, y, z) for x in EDGES[::7] for y in EDGES[::5] for z in EDGES[::6]]
    want = [c_fma(*c) for c in cases]
    bad = mismatches("fma", cases, want, js_side("fma", cases, "fma", tmp_path))
    assert not bad, (len(bad), bad[:5])


def test_exp_table_is_two_to_the_k_over_128():
    """EXP_H[k] + EXP_H[k] * EXP_TAIL[k] is 2^(k/128) to about 106 bits (glibc's table)."""
    import mpmath

    text = LIBM_JS.read_text(encoding="utf-8")

    def table(name):
        body = re.search(rf"const {name} = new Float64Array\(\[([^\]]*)\]\)", text).group(1)
        return [float(v) for v in body.split(",")]

    hs, tails = table("EXP_H"), table("EXP_TAIL")
    assert len(hs) == len(tails) == 128
    with mpmath.workdps(50):
        for k, (h, t) in enumerate(zip(hs, tails)):
            exact = mpmath.power(2, mpmath.mpf(k) / 128)
            assert h == float(exact)  # the double nearest
            assert t == float((exact - h) / h)  # and the rest, relative


# ---- millions -----------------------------------------------------------------------------------

@needs_node
@pytest.mark.slow
@pytest.mark.parametrize("name", FUNCTIONS)
def test_a_million_inputs_each(name, tmp_path):
    build = build_of(name)
    cases = inputs(name, 1_000_000, seed=10)
    want = python_side(name, cases)
    bad = mismatches(name, cases, want, js_side(name, cases, build, tmp_path))
    assert not bad, (len(bad), bad[:5])


@needs_node
@pytest.mark.slow
@pytest.mark.skipif(not glibc_with_fma(), reason="needs glibc on x86_64 with FMA")
@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_other_build_on_200000_inputs_each(name, tmp_path):
    cases = inputs(name, 200_000, seed=11)
    want = other_build_python(name, cases)
    bad = mismatches(name, cases, want, js_side(name, cases, "plain", tmp_path))
    assert not bad, (len(bad), bad[:5])


# ---- in Chromium (V8, the engine node runs, inside the page as it ships) -----------------------

@pytest.mark.browser
def test_in_chromium_the_page_gives_grads_bits(browser, tmp_path):  # noqa: F811
    """A page written by `circuit graph`: its LIBM gives Python's bits on every function,
    and its numbers are grad's bits, node by node."""
    from test_page import Page, run, write_page

    for name in FUNCTIONS:
        build_of(name)  # skips where the C library is not glibc

    text = "exp(x) * log(y) + pow(y, x) - sin(x * 1e7) / cos(y) + tanh(x / y)"
    values = {"x": 0.7071067811865476, "y": 2.302585092994046}
    page = Page(browser, write_page(tmp_path, text, values))
    try:
        doc = json.loads(run("grad", text, *[f"{k}={v!r}" for k, v in values.items()],
                             "--json").stdout)  # --json keeps full precision
        shown = page.numbers()
        assert set(shown) == {n["name"] for n in doc["nodes"]}
        for n in doc["nodes"]:
            assert shown[n["name"]] == (n["value"], n["grad"]), n["name"]  # the same doubles
        for name in FUNCTIONS:
            cases = [args for args in inputs(name, 2000, seed=5)
                     if all(math.isfinite(a) for a in args)]
            got = page.page.evaluate(
                "([name, cases]) => cases.map((a) => { const v = LIBM[name](...a);"
                " return Object.is(v, -0) ? '-0' : String(v); })",
                ["power" if name == "pow" else name, [list(a) for a in cases]])
            got = [float(g) for g in got]
            bad = mismatches(name, cases, python_side(name, cases), got)
            assert not bad, (name, len(bad), bad[:5])
    finally:
        page.close()
