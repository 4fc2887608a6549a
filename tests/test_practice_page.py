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


def test_your_turn_hides_checks_diagnoses_and_reveals(browser, tmp_path):  # noqa: F811
    page = Page(browser, write_page(tmp_path, "(x+y)*z", {"x": -2.0, "y": 5.0, "z": -4.0}))
    p = page.page
    grad_of_x = '[data-node="x"] .grad'
    assert p.is_visible(grad_of_x)
    p.check("[data-action=your-turn]")
    assert not p.is_visible(grad_of_x)  # hidden: try first
    # dx = z * dout = -4; the learner types 4 (the sign flipped, by hand)
    p.select_option("[data-practice-node]", label="x")
    p.fill("[data-practice-answer]", "4")
    p.click("[data-action=check-answer]")
    verdict = p.locator("#practice-verdict")
    assert verdict.get_attribute("data-right") == "false"
    assert "sign" in verdict.get_attribute("data-kinds").split()
    cli = json.loads(_expect("(x+y)*z", "x=4"))
    for m in cli["answers"][0]["mistakes"]:
        assert m["text"] in verdict.inner_text()  # the very sentences of the terminal
    assert not p.is_visible(grad_of_x)
    # the right answer reveals the node's gradient
    p.fill("[data-practice-answer]", "-4")
    p.press("[data-practice-answer]", "Enter")
    assert verdict.get_attribute("data-right") == "true"
    assert p.is_visible(grad_of_x)
    # a number no mistake gives: explain's lines as the hint; then Reveal
    p.select_option("[data-practice-node]", label="z")
    p.fill("[data-practice-answer]", "17")
    p.click("[data-action=check-answer]")
    assert "no common mistake gives 17" in verdict.inner_text()
    assert "out = add1 * z pulls on z: local 3 × pull 1 = 3" in verdict.inner_text()
    p.click("[data-action=reveal]")
    assert p.is_visible('[data-node="z"] .grad') and "is 3" in verdict.inner_text()
    # clicking a node in the drawing picks it
    p.click('[data-node="y"]')
    picked = p.eval_on_selector("[data-practice-node]", "s => s.selectedOptions[0].textContent")
    assert picked == "y"
    p.uncheck("[data-action=your-turn]")
    assert p.is_visible('[data-node="y"] .grad')
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
