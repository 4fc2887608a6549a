"""The live page for big circuits (issue 24): how long `circuit graph -o page.html` takes, and
how soon the page answers in headless Chromium.

    python tests/bench/bench_page.py [--sizes 1000,10000] [--runs 3] [--write-docs]

For each size, a random circuit of exactly that many nodes (inputs, gates; no constants) is
written with `circuit graph FILE -o page.html` (a subprocess, wall clock), then opened in
Chromium (playwright, executable_path=/usr/bin/chromium). Reported, medians of --runs:

- write: the command's wall time;
- ready: from navigation until the page answers (its script has drawn it and computed
  both passes: `window.circuitPage` exists and the output's value is shown);
- edit: from typing a new value into the input the output pulls on hardest until the
  output's value and the visible nodes are redrawn and the next frame is painted;
- edit->ready: the same, measured from navigation (the page used at once, an edit typed
  the moment it can be);
- blocked: the longest task on the main thread during load and the first edit, and the
  sum of every long task's time beyond 50 ms (Total Blocking Time), from the browser's
  own Long Tasks API.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

# installed before the page's own script: records every long task from the start
OBSERVE = """
window.__longtasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longtasks.push(e.duration);
}).observe({ type: "longtask", buffered: true });
"""

READY = "() => window.circuitPage !== undefined && document.querySelector('#out-value')" \
        " && document.querySelector('#out-value').textContent !== ''"

EDIT = """async (value) => {
  // the input the output pulls on hardest, so that the edit changes what is shown
  const data = JSON.parse(document.getElementById('circuit-data').textContent);
  const grads = window.circuitPage.state().grads;
  const name = Object.keys(data.inputs).reduce((a, b) =>
    Math.abs(grads[data.inputs[a]]) >= Math.abs(grads[data.inputs[b]]) ? a : b);
  const field = document.querySelector(`input[data-input="${name}"]`);
  const out = document.querySelector('#out-value');
  const shown = out.textContent;
  // the output at full precision: a deep random net can move it below the 6 digits shown
  const old = Array.from(window.circuitPage.state().vals);
  const before = old[data.output];
  const t = performance.now();
  field.value = String(value);
  field.dispatchEvent(new Event('input', { bubbles: true }));
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const took = performance.now() - t;
  const vals = window.circuitPage.state().vals;
  const moved = old.filter((v, i) => !Object.is(v, vals[i])).length;  // recomputed, changed
  return [took, before, vals[data.output], shown, out.textContent, moved];
}"""


def circuit_text(n: int, seed: int = 1) -> str:
    """Exactly n nodes: 10 inputs, then n - 10 gates, each reading recent nodes (a deep,
    wide net with fan-out, the shape a generated network has)."""
    rng = random.Random(seed)
    inputs = 10
    lines = [f"x{i} = {rng.uniform(-1, 1):.3f}" for i in range(inputs)]
    names = [f"x{i}" for i in range(inputs)]
    while len(names) < n:  # every node stays in [-1, 1]: the numbers mean something
        named = [name for name in names[-64:] if name]
        a = named[max(0, len(named) - 1 - int(rng.expovariate(0.2)))]
        b = named[max(0, len(named) - 1 - int(rng.expovariate(0.1)))]
        pick = rng.choice((0, 0, 1, 2, 3)) if n - len(names) >= 2 else 1 + rng.randrange(3)
        expr = (f"tanh({a} + {b})" if pick == 0 else f"{a} * {b}" if pick == 1
                else f"max({a}, {b})" if pick == 2 else f"tanh({a})")
        if pick == 0:
            names.append(None)  # the sum inside tanh is a node too
        names.append(f"n{len(names)}")
        lines.append(f"{names[-1]} = {expr}")
    return "\n".join(lines) + "\n"


def write_page(folder: Path, n: int) -> tuple[Path, float]:
    source = folder / f"c{n}.circuit"
    source.write_text(circuit_text(n))
    page = folder / f"c{n}.html"
    env = {**os.environ, "CIRCUIT_SESSION": str(folder / "session.json")}
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "circuitcli", "graph", str(source), "-o",
                        str(page)], capture_output=True, text=True, env=env)
    took = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"circuit graph failed for n={n}: {r.stderr.strip()}")
    return page, took


def open_page(browser, page_path: Path) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    tab = context.new_page()
    tab.add_init_script(OBSERVE)
    t = time.perf_counter()
    tab.goto(page_path.as_uri(), wait_until="commit", timeout=600_000)
    tab.wait_for_function(READY, timeout=600_000, polling=20)
    ready = time.perf_counter() - t
    edit_ms, before, after, shown, shown_after, moved = tab.evaluate(EDIT, 0.25)
    done = time.perf_counter() - t
    if moved == 0:  # the page did not recompute: the edit measured nothing
        print("  note: no node's value changed after the edit", file=sys.stderr)
    elif shown == shown_after:  # a deep random net: the output barely depends on an input
        print(f"  note: the edit changed {moved} node values; the output "
              f"{'not at all' if before == after else f'{before!r} -> {after!r}'}, "
              f"so its {shown} shown stayed", file=sys.stderr)
    tasks = tab.evaluate("() => window.__longtasks")
    context.close()
    return {"ready": ready, "edit": edit_ms / 1000, "edit->ready": done,
            "longest": max(tasks, default=0) / 1000,
            "tbt": sum(max(0.0, d - 50) for d in tasks) / 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'nodes':>6} {'page MB':>8} {'write s':>8} {'ready s':>8} {'edit s':>7} "
          f"{'edit->ready s':>14} {'longest task s':>15} {'TBT s':>6}")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for n in sizes:
            writes, loads = [], []
            for _ in range(args.runs):
                page, took = write_page(Path(tmp), n)
                writes.append(took)
                loads.append(open_page(browser, page))
            med = {k: statistics.median(run[k] for run in loads) for k in loads[0]}
            size = page.stat().st_size / 1e6
            print(f"{n:>6} {size:>8.1f} {statistics.median(writes):>8.2f} {med['ready']:>8.2f} "
                  f"{med['edit']:>7.3f} {med['edit->ready']:>14.2f} {med['longest']:>15.2f} "
                  f"{med['tbt']:>6.2f}", flush=True)
        browser.close()
    print(f"(medians of {args.runs} runs; Chromium headless, 1300x900, 2 shared cores)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from figures import run  # --write-docs: the output becomes its section of the docs

    run(main)
