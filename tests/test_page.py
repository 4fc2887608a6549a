"""The live HTML page in a real browser (Debian's Chromium, driven by playwright).

For every sample and random circuits over every gate, the page's values and gradients
equal `circuit grad --json` within 1e-12 relative, before and after editing inputs; a
step equals `circuit step --lr`; the page loads nothing but itself; a screenshot is not
blank. With CI=1 a missing browser fails these tests; elsewhere they are skipped.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from random_circuits import GATE_NAMES, every_gate_once, point, random_expression

from circuitcli.cli import main
from circuitcli.core.evaluate import evaluate
from circuitcli.core.parser import parse
from circuitcli.core.syntax import CircuitError
from circuitcli.io.bundled import samples

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's package
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REL = 1e-12
SAMPLES = sorted(samples())


def _unavailable() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python's playwright is not installed (pip install playwright)"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = _unavailable()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the browser tests: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM,
            headless=True, args=ARGS, viewport={"width": 1300, "height": 850})
        yield context
        context.close()


class Page:
    """A tab that opens pages of ours from disk and records every request they make."""

    def __init__(self, context, path: Path | None = None) -> None:
        self.uri = ""
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._route)
        if path is not None:
            self.open(path)

    def open(self, path: Path) -> None:
        """Load another page in the same tab (cheaper than a new tab)."""
        if self.uri:
            self.check()
        self.uri = path.resolve().as_uri()
        self.requests.clear()
        self.page.goto(self.uri)

    def _route(self, route) -> None:
        url = route.request.url
        self.requests.append(url)
        if url == self.uri:
            route.continue_()
        else:
            route.abort()

    def numbers(self) -> dict[str, tuple[float, float | None]]:
        rows = self.page.eval_on_selector_all(
            "[data-node]", "els => els.map(e => [e.dataset.node, e.dataset.value, e.dataset.grad])")
        return {name: (float(v), float(g) if g else None) for name, v, g in rows}

    def set_input(self, name: str, value: float) -> None:
        self.page.fill(f'input[data-input="{name}"]', repr(value))

    def check(self) -> None:
        assert self.errors == [], self.errors
        assert self.requests == [self.uri], f"requests other than the page: {self.requests}"

    def close(self) -> None:
        self.check()
        self.page.close()


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (args, result.output)
    return result


def write_page(tmp_path: Path, circuit: str, values: dict[str, float], name="page.html") -> Path:
    path = tmp_path / name
    run("graph", circuit, *[f"{k}={v!r}" for k, v in values.items()], "-o", str(path))
    return path


def close(a: float, b: float) -> bool:
    """Equal within REL relative; inf matches inf of the same sign and nan matches nan."""
    if not math.isfinite(a) or not math.isfinite(b):
        return a == b or (a != a and b != b)
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-300)


def assert_matches_grad(page: Page, circuit: str, values: dict[str, float]) -> None:
    doc = json.loads(run("grad", circuit, *[f"{k}={v!r}" for k, v in values.items()],
                         "--json").stdout)
    shown = page.numbers()
    assert set(shown) == {n["name"] for n in doc["nodes"]}
    for n in doc["nodes"]:
        value, grad = shown[n["name"]]
        # JSON's null stands for inf or nan: the page must show a non-finite number there
        for want, got, what in ((n["value"], value, "value"), (n["grad"], grad, "grad")):
            if want is None:
                assert got is None or not math.isfinite(got), (circuit, n["name"], what, got)
            else:
                assert got is not None and close(want, got), (circuit, n["name"], what, want, got)


def sample_values(name: str) -> tuple[str, dict[str, float]]:
    path = samples()[name][0]
    circuit = parse(path.read_text(encoding="utf-8"))
    rng = random.Random(name)
    values = {n: circuit.defaults.get(n, round(rng.uniform(-1, 1), 3)) for n in circuit.inputs}
    return f"{name}.circuit", values


# ---- every sample, before and after editing ------------------------------------------------


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "mlp" else n
                                  for n in SAMPLES])
def test_sample_page_matches_grad(browser, tmp_path, name):
    circuit, values = sample_values(name)
    page = Page(browser, write_page(tmp_path, circuit, values))
    assert_matches_grad(page, circuit, values)
    rng = random.Random(f"edit {name}")
    for k, input_name in enumerate(values):
        if k >= 6:  # the big samples: a few edits show it as well as hundreds
            break
        values[input_name] = round(values[input_name] + rng.uniform(-0.5, 0.5), 4)
        page.set_input(input_name, values[input_name])
    assert_matches_grad(page, circuit, values)
    page.close()


@pytest.mark.slow
def test_random_circuits_over_every_gate(browser, tmp_path):
    rng = random.Random(14)
    texts = every_gate_once(rng) + [random_expression(rng, 3) for _ in range(12)]
    texts += ["x", "2", "2 * 3 + x", "max(x, x, y) - min(y, 2)", "q = x * y; r = q * q; r + q"]
    covered = set()
    tab = Page(browser)
    for k, text in enumerate(texts):
        circuit = parse(text)
        for _ in range(30):  # a point inside every gate's domain (else grad refuses)
            values = {n: v for n, v in point(rng).items() if n in circuit.inputs}
            try:
                evaluate(circuit, values)
                break
            except CircuitError:
                pass
        else:
            continue
        covered.update(g.name for g in circuit.gates)
        tab.open(write_page(tmp_path, text, values, f"r{k}.html"))
        assert_matches_grad(tab, text, values)
        edited = point(rng)
        for n in circuit.inputs:
            values[n] = edited[n]
            tab.set_input(n, edited[n])
        try:
            evaluate(circuit, values)
        except CircuitError:
            continue
        assert_matches_grad(tab, text, values)
    tab.close()
    assert set(GATE_NAMES) <= covered


# ---- steps, words, flags ------------------------------------------------------------------


def test_step_equals_circuit_step(browser, tmp_path):
    circuit, values = "neuron.circuit", {}
    page = Page(browser, write_page(tmp_path, circuit, values))
    page.page.fill("input[data-lr]", "0.05")
    for _ in range(3):
        page.page.click('[data-action="step"]')
    doc = json.loads(run("step", circuit, "--lr", "0.05", "--steps", "3", "--json").stdout)
    shown = page.numbers()
    for name, entry in doc["inputs"].items():
        assert close(entry["after"], shown[name][0]), name
        field = page.page.input_value(f'input[data-input="{name}"]')
        assert close(entry["after"], float(field))
    assert close(doc["output"]["after"], shown["s"][0])
    history = page.page.evaluate("window.circuitPage.history()")
    assert len(history) == len(doc["history"]) == 4
    assert all(close(a, b) for a, b in zip(doc["history"], history))
    assert page.page.locator("#history-list li").count() == 4
    page.close()


@pytest.mark.parametrize(("circuit", "values"), [
    ("neuron.circuit", {}), ("a*a", {"a": 3.0}), ("b = a + a; c = b + b", {"a": -1.5}),
    ("(x+y)*z", {"x": -2.0, "y": 5.0, "z": -4.0}), ("max(x, y, 1) * relu(x)", {"x": 1.0, "y": 1.0}),
])
def test_animation_speaks_like_circuit_explain(browser, tmp_path, circuit, values):
    page = Page(browser, write_page(tmp_path, circuit, values))
    sentences = page.page.evaluate("window.circuitPage.sentences()")
    story = run("explain", circuit, *[f"{k}={v!r}" for k, v in values.items()], "--all").output
    lines = {line.strip() for line in story.splitlines()}
    assert sentences and all(s in lines for s in sentences), (
        [s for s in sentences if s not in lines], story)
    # and the step shown on screen says the same
    page.page.click('[data-action="next"]')
    assert sentences[0] in page.page.text_content("#explain")
    page.close()


def test_kinks_and_non_finite_values_are_flagged(browser, tmp_path):
    page = Page(browser, write_page(tmp_path, "relu(x) + log(y)", {"x": 1.0, "y": 2.0}))
    assert page.page.text_content("#notes") == ""
    page.set_input("x", 0.0)
    assert "relu at 0: uses the subgradient 0" in page.page.text_content("#notes")
    page.set_input("y", -1.0)  # circuit grad refuses; the page shows nan and says where
    notes = page.page.text_content("#notes")
    assert "value of log1 = log(y) is nan" in notes
    assert page.page.get_attribute('[data-node="log1"]', "data-value") == "NaN"
    page.page.fill('input[data-input="y"]', "abc")  # not a number: kept, and said
    assert page.page.get_attribute('[data-node="y"]', "data-value") == "-1"
    assert "not a finite number" in page.page.text_content("#notes")
    page.close()


@pytest.mark.parametrize("engine", ["graphviz", "circuitcli"])
def test_both_layouts(browser, tmp_path, monkeypatch, engine):
    if engine == "circuitcli":
        monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    elif shutil.which("dot") is None and not os.environ.get("CI"):
        pytest.skip("Graphviz's dot is not installed")
    circuit, values = sample_values("nn")
    page = Page(browser, write_page(tmp_path, circuit, values))
    assert page.page.get_attribute("#graph", "data-layout") == engine
    assert_matches_grad(page, circuit, values)
    png = page.page.locator("#graph").screenshot()
    if os.environ.get("CIRCUIT_SCREENSHOT"):  # for a person to look at
        Path(os.environ["CIRCUIT_SCREENSHOT"] + f".{engine}.png").write_bytes(png)
    assert pixel_spread(png) > 200
    page.close()


def test_screenshot_is_not_blank(browser, tmp_path):
    page = Page(browser, write_page(tmp_path, "neuron.circuit", {}))
    png = page.page.screenshot(full_page=True)
    if os.environ.get("CIRCUIT_SCREENSHOT"):  # for a person to look at
        Path(os.environ["CIRCUIT_SCREENSHOT"]).write_bytes(png)
    assert pixel_spread(png) > 200
    # a blank page has one colour: this one has the node colours of both signs
    page.close()


def pixel_spread(png: bytes) -> float:
    """The variance of the pixels' grey levels, from the PNG bytes (8-bit RGB or RGBA)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(png):
        (length,), kind = struct.unpack(">I", png[pos:pos + 4]), png[pos + 4:pos + 8]
        body = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            data += body
        pos += 12 + length
    raw = zlib.decompress(data)
    stride = width * channels
    prev = bytearray(stride)
    total = total_sq = 0
    for y in range(height):
        row = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        ftype, line = row[0], bytearray(row[1:])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 255
            elif ftype == 2:
                line[x] = (line[x] + b) & 255
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        if y % 4 == 0:  # every fourth row is plenty for a spread
            greys = line[0::channels]
            total += sum(greys)
            total_sq += sum(g * g for g in greys)
    n = ((height + 3) // 4) * width
    mean = total / n
    return total_sq / n - mean * mean


def test_an_input_named_proto_and_an_infinite_constant(browser, tmp_path):
    """Issue 24: `__proto__` is a name like any other (maps without prototypes), and an
    infinite constant reaches the page as Infinity."""
    circuit, values = "f = __proto__ * y + z", {"__proto__": 2.0, "y": 3.0, "z": 1.0}
    page = Page(browser, write_page(tmp_path, circuit, values))
    assert_matches_grad(page, circuit, values)
    page.set_input("__proto__", -1.5)
    assert page.numbers()["f"][0] == -1.5 * 3.0 + 1.0
    page.page.click('[data-action="step"]')
    assert page.numbers()["__proto__"][0] == -1.5 + 0.01 * 3.0
    page.close()
    page = Page(browser, write_page(tmp_path, "f = x * 1e309", {"x": 2.0}, "inf.html"))
    assert page.page.get_attribute('[data-node="f"]', "data-value") == "Infinity"
    page.close()
