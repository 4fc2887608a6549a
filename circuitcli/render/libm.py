"""Which build of the C library the live page's mathematics follows (page/libm.js).

Python's math.exp, log, sin, cos, tanh and float ** call the C library. glibc (2.28 and
later) builds exp, log, pow, sin and cos twice on x86_64, Debian's 2.36 expm1 (tanh's core)
too: with fused multiply-adds, for CPUs that have them, and without; the program picks one
when it starts. The two differ in the last bit of about one result in a thousand to ten
thousand. page/libm.js computes both, bit for bit; this module asks this machine's math
module, at inputs where the two builds differ (PROBES, each checked against glibc in both
modes by tests/test_page_libm.py), which one it uses, and the page is written to follow that.
A machine whose C library is not glibc matches neither; the page then follows the fused build.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources

__all__ = ["PROBES", "fused_builds", "libm_js"]

# function -> ((arguments, result of the fused build, result of the plain build), ...)
PROBES: dict[str, tuple[tuple[tuple[float, ...], float, float], ...]] = {
    "exp": (
        ((16.1862756557734,), 10705579.96730082, 10705579.967300817),
        ((-7.432513984673431,), 0.0005916981205319538, 0.0005916981205319539),
        ((-5.965055586745208,), 0.0025669019176969812, 0.0025669019176969817),
    ),
    "log": (
        ((5.889766163133656,), 1.7732162962189781, 1.7732162962189784),
        ((5.663483527924726,), 1.7340391671922717, 1.7340391671922715),
        ((2.1113720255886848,), 0.7473379852617986, 0.7473379852617985),
    ),
    "pow": (
        ((5.969123173949957, -7.815213644262342), 8.631640724137682e-07, 8.631640724137681e-07),
        ((0.1571228284625903, -6.784072944844506), 283642.4950354136, 283642.49503541365),
        ((0.23006148962305017, 6.75841384414419), 4.864936373854625e-05, 4.8649363738546256e-05),
    ),
    "sin": (
        ((9.585286025829465,), -0.1598197617193009, -0.15981976171930087),
        ((0.15240153413831692,), 0.15181226675773235, 0.15181226675773232),
        ((-5.248718283492022,), 0.8595901361290641, 0.859590136129064),
    ),
    "cos": (
        ((-2.67028345795286,), -0.8909746075449702, -0.89097460754497),
        ((-1.7760188695477943,), -0.20378503778886925, -0.20378503778886928),
        ((-5.364013697301542,), 0.6064790172251039, 0.6064790172251038),
    ),
    "tanh": (
        ((-0.18100224067961967,), -0.1790511514422056, -0.17905115144220554),
        ((0.5308311304806113,), 0.48601615472340565, 0.4860161547234058),
        ((-0.2342617400647784,), -0.23006844890961944, -0.2300684489096195),
    ),
}


def _python(name: str):
    return (lambda x, y: x ** y) if name == "pow" else getattr(math, name)


@cache
def fused_builds() -> dict[str, bool | None]:
    """For each function, whether this machine's math module gives the fused build's bits
    (True), the plain build's (False), or neither (None: not glibc; the page then follows
    the fused build)."""
    found: dict[str, bool | None] = {}
    for name, probes in PROBES.items():
        got = [_python(name)(*args) for args, _, _ in probes]
        found[name] = (True if got == [fused for _, fused, _ in probes]
                       else False if got == [plain for _, _, plain in probes] else None)
    return found


def libm_js() -> str:
    """page/libm.js and the line that picks, per function, the build Python was seen to use:
    `LIBM.exp`, `LIBM.log`, `LIBM.power`, `LIBM.sin`, `LIBM.cos`, `LIBM.tanh`."""
    source = resources.files("circuitcli.render.page").joinpath("libm.js").read_text(
        encoding="utf-8")
    return f"{source}const LIBM = libm.pick({json.dumps(fused_builds())});\n"
