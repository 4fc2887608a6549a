"""The live page's "your turn" in headless Chromium: gradients hidden, a typed gradient
checked and diagnosed exactly as `circuit check --expect` does it, then revealed.

The page's diagnosis (render/page/practice.js, its tables generated from
methods/practice.py) is compared with Python's, answer by answer, on the notebook's
exercises and random circuits: the same verdict, the same kinds, the same sentences.
"""

from __future__ import annotations

import json
import math
import random

import pytest
from random_circuits import point, random_expression
from test_page import Page, browser, write_page  # noqa: F401 (browser: the fixture)

from circuitcli.core.evaluate import evaluate
from circuitcli.core.parser import parse
from circuitcli.methods.explain import explain
from circuitcli.methods.practice import alternatives, diagnose

pytestmark = pytest.mark.browser

_DIAGNOSE = """([name, answer]) => {
  const i = JSON.parse(document.getElementById("circuit-data").textContent)
    .nodes.findIndex((n) => n.name === name);
  const r = window.circuitPractice.diagnose(i, answer);
  return {right: r.right, kinds: r.kinds, texts: r.mistakes.map((m) => m.text)};
}"""


def js_diagnose(page: Page, name: str, answer: float) -> dict:
    return page.page.evaluate(_DIAGNOSE, [name, answer])


def _node_text(p, name: str) -> str:
    return p.text_content(f'#graph [data-node="{name}"] .try')


def test_your_turn_at_the_node_hides_checks_diagnoses_and_reveals(browser, tmp_path):  # noqa: F811
    page = Page(browser, write_page(tmp_path, "(x+y)*z", {"x": -2.0, "y": 5.0, "z": -4.0}))
    p = page.page
    grad_of_x = '#graph [data-node="x"] .grad'
    assert p.is_visible(grad_of_x)
    p.check("[data-action=your-turn]")
    assert not p.is_visible(grad_of_x)  # hidden: try first
    assert not p.is_visible(".edge-label")
    assert _node_text(p, "x") == "dx = ?"  # the node asks for its gradient
    # the learner clicks the node in the drawing and types there: dx = z * dout = -4,
    # typed as 4 (the sign flipped, by hand)
    p.click('#graph [data-node="x"]')
    editor = p.locator("#practice-editor")
    assert editor.is_visible() and editor.get_attribute("data-for") == "x"
    # the editor sits at the node: just under its box, overlapping it sideways
    node_box = p.locator('#graph [data-node="x"]').bounding_box()
    box = editor.bounding_box()
    assert 0 <= box["y"] - (node_box["y"] + node_box["height"]) <= 12
    assert box["x"] < node_box["x"] + node_box["width"] and box["x"] + box["width"] > node_box["x"]
    assert p.evaluate("document.activeElement.matches('[data-practice-answer]')")
    p.keyboard.type("4")
    p.keyboard.press("Enter")
    verdict = p.locator("#practice-verdict")
    assert verdict.get_attribute("data-right") == "false"
    assert "sign" in verdict.get_attribute("data-kinds").split()
    cli = json.loads(_expect("(x+y)*z", "x=4"))
    for m in cli["answers"][0]["mistakes"]:
        assert m["text"] in verdict.inner_text()  # the very sentences of the terminal
    assert _node_text(p, "x") == "dx = 4 ✗"  # the node keeps the mark
    assert not p.is_visible(grad_of_x)
    # the right answer reveals the node's gradient, in the node
    p.fill("[data-practice-answer]", "-4")
    p.click("[data-action=check-answer]")
    assert verdict.get_attribute("data-right") == "true"
    assert p.is_visible(grad_of_x) and not p.is_visible('#graph [data-node="x"] .try')
    assert p.text_content(grad_of_x) == "grad -4"
    # a number no mistake gives, at another node: explain's lines as the hint; then Reveal
    p.click('#graph [data-node="z"]')
    assert editor.get_attribute("data-for") == "z" and verdict.inner_text() == ""
    p.fill("[data-practice-answer]", "17")
    p.press("[data-practice-answer]", "Enter")
    assert "no common mistake gives 17" in verdict.inner_text()
    assert "out = add1 * z pulls on z: local 3 × pull 1 = 3" in verdict.inner_text()
    p.click("[data-action=reveal]")
    assert p.is_visible('#graph [data-node="z"] .grad') and "is 3" in verdict.inner_text()
    # new input values: the old answers no longer apply
    page.set_input("x", 1.0)
    assert not editor.is_visible() and _node_text(p, "x") == "dx = ?"
    assert not p.is_visible(grad_of_x)
    p.uncheck("[data-action=your-turn]")
    assert p.is_visible('#graph [data-node="y"] .grad') and not p.is_visible(".try")
    page.check()
    page.close()


def test_your_turn_by_keyboard_alone(browser, tmp_path):  # noqa: F811
    page = Page(browser, write_page(tmp_path, "q = a * a; f = q + a", {"a": 3.0}))
    p = page.page
    p.focus("[data-action=your-turn]")
    p.keyboard.press("Space")
    assert p.is_checked("[data-action=your-turn]")
    # Tab walks the answerable nodes of the drawing; Enter opens the one focused
    names = []
    for _ in range(12):
        p.keyboard.press("Tab")
        name = p.evaluate("document.activeElement.getAttribute('data-node')")
        if name:
            names.append(name)
            if name == "a":
                break
    assert "a" in names
    p.keyboard.press("Enter")
    assert p.evaluate("document.activeElement.matches('[data-practice-answer]')")
    # da = 2a * dq + 1 * df = 7; typed as 6, the use by f left out of the sum
    p.keyboard.type("6")
    p.keyboard.press("Enter")
    verdict = p.locator("#practice-verdict")
    assert verdict.get_attribute("data-kinds").split()[0] == "fan-out", verdict.inner_text()
    assert "this leaves out the use by f = q + a (1)" in verdict.inner_text()
    # Escape closes the editor and gives the focus back to the node
    p.keyboard.press("Escape")
    assert not p.is_visible("#practice-editor")
    assert p.evaluate("document.activeElement.getAttribute('data-node')") == "a"
    assert p.get_attribute('#graph [data-node="a"]', "aria-label") == "da: wrong, 6"
    p.keyboard.press("Enter")
    p.keyboard.press("Control+A")
    p.keyboard.type("7")
    p.keyboard.press("Enter")
    assert verdict.get_attribute("data-right") == "true"
    page.check()
    page.close()


@pytest.mark.parametrize("width", [360, 600])
def test_your_turn_on_a_narrow_screen(browser, tmp_path, width):  # noqa: F811
    page = Page(browser, write_page(tmp_path, "samples/ex5_neuron.circuit", {}))
    p = page.page
    p.set_viewport_size({"width": width, "height": 740})
    p.check("[data-action=your-turn]")
    node = p.locator('#graph [data-node="q"]')
    node.scroll_into_view_if_needed()
    node.click()
    editor = p.locator("#practice-editor")
    assert editor.is_visible()
    box = editor.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # the whole editor on screen
    assert box["width"] >= min(width - 40, 300)  # room to type and read
    field = p.locator("[data-practice-answer]").bounding_box()
    assert field["width"] >= 60 and field["x"] + field["width"] <= width
    # dq = f(1 - f) = 0.104994; typed as f itself, 0.8808 (two mistakes give it)
    p.fill("[data-practice-answer]", "0.8808")
    p.press("[data-practice-answer]", "Enter")
    verdict = p.locator("#practice-verdict")
    assert set(verdict.get_attribute("data-kinds").split()) == {"value-for-local", "sigmoid-s"}
    v = verdict.bounding_box()
    assert v["x"] >= 0 and v["x"] + v["width"] <= width
    frame = p.locator("#graph-wrap").bounding_box()  # not cut off by the drawing's frame
    assert frame["y"] <= v["y"] and v["y"] + v["height"] <= frame["y"] + frame["height"]
    assert p.evaluate("document.documentElement.scrollWidth") <= width  # no sideways page
    page.check()
    page.close()


def _expect(circuit: str, *answers: str) -> str:
    from click.testing import CliRunner

    from circuitcli.cli import main

    return CliRunner().invoke(main, ["check", circuit, "x=-2", "y=5", "z=-4", "--expect",
                                     *answers, "--json"]).stdout


def _agree(page: Page, text: str, values: dict[str, float]) -> int:
    c = parse(text)
    ex = explain(evaluate(c, {k: values[k] for k in c.inputs}))
    labels = c.labels()
    compared = 0
    for i in range(len(c)):
        if not (c.used()[i] and (c.live[i] or i == c.output) and (c.args[i] or c.is_input(i))):
            continue
        answers = {m.value for m in alternatives(ex, i)} | {ex.result.grads[i], 12345.5}
        for answer in sorted(a for a in answers if math.isfinite(a)):
            v = diagnose(ex, i, answer)
            js = js_diagnose(page, labels[i], answer)
            assert js["right"] == v.right, (text, labels[i], answer)
            assert js["kinds"] == v.kinds, (text, labels[i], answer, js, v.kinds)
            assert js["texts"] == [m.text for m in v.mistakes], (text, labels[i], answer)
            compared += 1
    return compared


@pytest.mark.parametrize("name", ["ex4_mul_add", "ex5_neuron", "ex6_square", "ex8_division",
                                  "ex8_max", "ex8_relu", "ex8_square_chain"])
def test_page_and_cli_agree_on_the_exercises(browser, tmp_path, name):  # noqa: F811
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "samples" / f"{name}.circuit").read_text()
    values = parse(text).values_for()
    page = Page(browser, write_page(tmp_path, f"{name}.circuit", {}))
    assert _agree(page, text, values) > 5
    page.close()


def test_page_and_cli_agree_on_random_circuits(browser, tmp_path):  # noqa: F811
    rng = random.Random(21)
    tab = Page(browser)
    compared = 0
    for k in range(6):
        text = random_expression(rng, 3)
        values = point(rng)
        c = parse(text)
        try:
            result = evaluate(c, {v: values[v] for v in c.inputs})
        except Exception:
            continue
        if result.kinks or not all(math.isfinite(g) for g in result.grads):
            continue
        tab.open(write_page(tmp_path, text, {v: values[v] for v in c.inputs}, f"p{k}.html"))
        compared += _agree(tab, text, values)
    tab.close()
    assert compared > 10


def test_page_and_cli_agree_after_the_learner_edits_the_inputs(browser, tmp_path):  # noqa: F811
    # the page computes its diagnosis again at the values on screen: held to Python's there
    text = "x1 = a * b + c\nx2 = x1 * d\nx = x2 * x2 + max(a, d)"
    page = Page(browser, write_page(tmp_path, text, {"a": 1.0, "b": 2.0, "c": -3.0, "d": 0.5}))
    edited = {"a": -1.5, "b": 0.75, "c": 2.0, "d": -0.5}
    page.page.check("[data-action=your-turn]")
    for name, value in edited.items():
        page.set_input(name, value)
    assert _agree(page, text, edited) > 20
    page.check()
    page.close()
