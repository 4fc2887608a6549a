"""The live page of a big circuit (issue 24): past 1,000 nodes only what is in view is drawn,
so the page answers at once; what is drawn shows grad's numbers, an edit redraws them, and
panning draws the rest. In headless Chromium (the figures are tests/bench/bench_page.py's)."""

from __future__ import annotations

import json

import pytest
from test_page import CHROMIUM, Page, close, run  # noqa: F401  (CHROMIUM: the fixture's)
from test_page_screens import chromium  # noqa: F401  (the module's browser)

pytestmark = pytest.mark.browser

N = 3000  # nodes: three times the point where the page starts drawing only what is in view


def big_circuit() -> str:
    """x, then N - 1 gates in a ladder: each reads the one before and x (values stay in
    [-1, 1] by tanh, so every number is finite)."""
    lines = ["x = 0.3", "n1 = tanh(x)"]
    lines += [f"n{k} = tanh(n{k - 1} + x)" if k % 2 else f"n{k} = n{k - 1} * x"
              for k in range(2, N // 3 * 2)]
    return "\n".join(lines) + "\n"


def grads(source: str, *values: str) -> dict[str, tuple[float, float]]:
    doc = json.loads(run("grad", source, *values, "--json").stdout)
    return {n["name"]: (n["value"], n["grad"]) for n in doc["nodes"]}


def test_a_big_page_draws_what_is_in_view_and_shows_grads_numbers(chromium, tmp_path):  # noqa: F811
    source = tmp_path / "big.circuit"
    source.write_text(big_circuit())
    page_path = tmp_path / "big.html"
    r = run("graph", str(source), "-o", str(page_path))
    assert r.exit_code == 0, r.output
    data = json.loads(page_path.read_text().split('id="circuit-data">')[1]
                      .split("</script>")[0].replace("\\u003c", "<"))
    total = len(data["nodes"])
    assert total > 1000
    context = chromium.new_context(viewport={"width": 1300, "height": 900})
    page = Page(context, page_path)
    try:
        shown = page.numbers()
        assert 0 < len(shown) < total / 2, len(shown)  # a view's worth, not every node
        want = grads(str(source))
        for name, (value, grad) in shown.items():
            assert close(value, want[name][0]) and close(grad, want[name][1]), name
        # an edit recomputes every node and redraws those in view
        before = page.page.text_content("#out-value")
        page.set_input("x", 0.7)
        page.page.wait_for_function("() => document.querySelector('[data-input=x]')"
                                    ".value === '0.7'")
        want = grads(str(source), "x=0.7")
        shown = page.numbers()
        for name, (value, grad) in shown.items():
            assert close(value, want[name][0]) and close(grad, want[name][1]), name
        out = data["nodes"][data["output"]]["name"]
        assert page.page.text_content("#out-value") != before
        # panning to the far corner draws the nodes there, with their numbers
        page.page.evaluate("""() => { const s = document.querySelector('#graph');
            const r = s.getBoundingClientRect();
            window.scrollTo(r.width + 10000, r.height + 10000);
            document.querySelector('#graph-wrap').scrollTo(1e7, 1e7); }""")
        page.page.wait_for_function(
            f"() => document.querySelector('[data-node=\"{out}\"]') !== null")
        later = page.numbers()
        assert out in later and set(later) != set(shown)
        assert close(later[out][0], want[out][0]) and close(later[out][1], want[out][1])
        assert len(later) < total / 2
        page.check()
    finally:
        context.close()

