// "Your turn" on the live page: hide the gradients, type one for a node, have it checked
// and diagnosed with the same mistakes as `circuit check --expect` (methods/practice.py),
// then reveal. PRACTICE (the gate slips and the message templates) is generated from the
// Python tables; the walk below mirrors methods/practice.py's `alternatives` step by step.
"use strict";
(function () {
  const page = window.circuitPage;
  if (!page || typeof PRACTICE === "undefined") return;
  const DATA = JSON.parse(document.getElementById("circuit-data").textContent);
  const NODES = DATA.nodes;
  const OUT = DATA.output;
  const W = PRACTICE.words;
  const $ = (sel) => document.querySelector(sel);

  // ---- the diagnosis: methods/practice.py in JavaScript --------------------------------
  function n(x) { if (x !== x) return "nan"; const t = num(x); return t === "-0" ? "0" : t; }
  function fill(template, fields) {
    return template.replace(/\{(\w+)\}/g, (_, k) => String(fields[k]));
  }
  function close(a, b, tol, scale) {
    if (!isFinite(a) || !isFinite(b)) return a === b || (a !== a && b !== b);
    return Math.abs(a - b) <= tol * Math.max(Math.abs(b), scale);
  }
  function scaleOf(st) {
    let big = 0;
    st.grads.forEach((g, i) => { if (NODES[i].live && isFinite(g)) big = Math.max(big, Math.abs(g)); });
    return Math.max(1e-12 * big, 1e-300);
  }
  const isInput = (i) => NODES[i].gate === "input";
  const by = (u) => `${NODES[u.by].name} = ${NODES[u.by].formula}`;

  function usesOf(st, node) {
    if (node === OUT) return [];
    return st.uses[node].filter((u) => NODES[u.by].used);
  }

  function useSlips(st, node, u) {
    const user = NODES[u.by].name, name = NODES[node].name;
    const gate = NODES[u.by].gate;
    const args = NODES[u.by].args;
    const g = u.pull, out = st.vals[u.by];
    const xs = args.map((j) => st.vals[j]);
    const found = [];
    if (gate !== "add" && gate !== "sub") {
      found.push(["value-for-local", out * g,
        fill(W["gate-value"], { user, out: n(out), name, local: n(u.local) })]);
      found.push(["value-for-local", st.vals[node] * g,
        fill(W["own-value"], { name, value: n(st.vals[node]), user, local: n(u.local) })]);
    }
    if (args.length > 1) {
      const partials = GATES[gate].partials(out, ...xs);
      args.forEach((j, slot) => {
        if (slot !== u.slot && j !== node) {
          found.push(["wrong-node", partials[slot] * g, fill(W["other-argument"], {
            user, other: NODES[j].name, partial: n(partials[slot]), name, local: n(u.local) })]);
        }
      });
    }
    for (const [kind, slot, rule, words, swapped] of PRACTICE.slips[gate] || []) {
      if (slot !== "*" && slot !== String(u.slot)) continue;
      const other = args.length === 2 ? args[1 - u.slot] : node;
      const reads = xs.slice();
      if (swapped) reads[1 - u.slot] = st.grads[other]; // the other's gradient for its value
      const variadic = GATES[gate].arity === null;
      const value = variadic ? rule(g, out, reads[u.slot], 0)
        : rule(g, out, reads[0], reads.length > 1 ? reads[1] : 0);
      found.push([kind, value, fill(words, {
        by: user, node: name, other: NODES[other].name, gother: n(st.grads[other]),
        vother: n(st.vals[other]), local: n(u.local), out: n(out), one_minus: n(1 - out),
        pull: n(g), x: n(xs[u.slot]) })]);
    }
    return found;
  }

  function alternatives(st, node) {
    const name = NODES[node].name;
    const truth = st.grads[node];
    const found = [{ kind: "sign", value: -truth,
      text: fill(W.sign, { name, truth: n(truth), flipped: n(-truth) }) }];
    const uses = usesOf(st, node);
    if (uses.length > 1) {
      const told = uses.map((u) => `${by(u)} (${n(u.contribution)})`).join(", ");
      const seen = new Set();
      for (const u of uses) {
        const key = u.by + " " + u.contribution;
        if (seen.has(key)) continue;
        seen.add(key);
        const alike = uses.filter((v) => v.by === u.by && v.contribution === u.contribution).length;
        const which = fill(W[alike > 1 ? "alike-uses" : "one-use"], { alike });
        found.push({ kind: "fan-out", value: truth - u.contribution, text: fill(W["fan-out"], {
          name, count: uses.length, told, truth: n(truth), which, by: by(u),
          contribution: n(u.contribution) }) });
      }
    }
    if (uses.length) {
      let total = 0;
      for (const u of uses) total += u.local;
      const pulls = uses.map((u) => `d${NODES[u.by].name} = ${n(u.pull)}`).join(", ");
      const users = [...new Set(uses.map((u) => NODES[u.by].name))].join("/");
      found.push({ kind: "chain", value: total,
        text: fill(W.chain, { total: n(total), users, name, pulls }) });
    }
    for (const u of uses) {
      const rest = truth - u.contribution;
      for (const [kind, value, text] of useSlips(st, node, u)) {
        found.push({ kind, value: uses.length > 1 ? rest + value : value,
          text: uses.length > 1 ? fill(W["in-use"], { text, by: by(u) }) : text });
      }
    }
    const others = new Map();
    NODES.forEach((nd, j) => {
      if (j !== node && nd.live && (nd.args.length || isInput(j)) && nd.used) {
        const g = st.grads[j];
        if (!others.has(g)) others.set(g, []);
        others.get(g).push(nd.name);
      }
    });
    for (const [value, names] of others) {
      const shown = names.slice(0, 6).join(", ") + (names.length > 6 ? ` and ${names.length - 6} more` : "");
      found.push({ kind: "wrong-node", value, text: fill(W["wrong-node"], { value: n(value), names: shown, name }) });
    }
    return found;
  }

  function diagnose(node, answer, tol) {
    const st = page.state();
    tol = tol === undefined ? PRACTICE.tol : tol;
    const scale = scaleOf(st);
    const truth = st.grads[node];
    const right = close(answer, truth, tol, scale);
    const mistakes = [];
    if (!right) {
      for (const m of alternatives(st, node)) {
        if (close(answer, m.value, tol, scale) && !close(m.value, truth, tol, scale)
            && mistakes.every((x) => x.text !== m.text)) mistakes.push(m);
      }
    }
    return { right, truth, mistakes, kinds: [...new Set(mistakes.map((m) => m.kind))] };
  }

  function hintLines(node) {
    const st = page.state();
    const w = page.words;
    const name = NODES[node].name;
    if (node === OUT) return [`${name} is the output: its gradient is the pull from above, ${w.fmt(DATA.pull)}`];
    const uses = usesOf(st, node);
    if (!uses.length) return [`nothing pulls on ${name}: its gradient is 0`];
    const lines = uses.map((u) => w.useLine(NODES[u.by].name, NODES[u.by].formula, name,
      w.fmt(u.local), w.fmt(u.pull), w.fmt(u.contribution)));
    lines.push(w.sumLine(name, uses.map((u) => w.fmt(u.contribution)), w.fmt(st.grads[node])));
    return lines;
  }

  // ---- the panel ------------------------------------------------------------------------
  const style = document.createElement("style");
  style.textContent = `
    body.your-turn [data-node] .grad, body.your-turn .edge-label, body.your-turn [data-node] .big,
    body.your-turn #inputs td:nth-child(3) { visibility: hidden; }
    body.your-turn [data-node].revealed .grad { visibility: visible; }
    body.your-turn #graph .plus, body.your-turn #graph .minus { stroke: #888; }
    body.your-turn [data-node] { cursor: pointer; }
    #your-turn .verdict { white-space: pre-wrap; }
    #your-turn .verdict.right { color: #1a7f37; } #your-turn .verdict.wrong { color: #b42318; }`;
  document.head.appendChild(style);
  const section = document.createElement("section");
  section.id = "your-turn";
  section.innerHTML = `<h2>Your turn</h2>
    <label><input type="checkbox" data-action="your-turn"> hide the gradients and derive them yourself</label>
    <div class="practice" hidden>
      <p class="hint">Pick a node (or click it in the drawing), type its gradient, check.</p>
      <label>gradient of <select data-practice-node></select></label>
      <input data-practice-answer type="text" inputmode="decimal" size="10" aria-label="your gradient">
      <button data-action="check-answer" type="button">Check</button>
      <button data-action="reveal" type="button">Reveal</button>
      <p class="verdict" id="practice-verdict" aria-live="polite"></p>
    </div>`;
  const aside = $("aside");
  aside.insertBefore(section, aside.children[1] || null);
  const toggle = section.querySelector("[data-action=your-turn]");
  const panel = section.querySelector(".practice");
  const select = section.querySelector("[data-practice-node]");
  const field = section.querySelector("[data-practice-answer]");
  const verdict = section.querySelector("#practice-verdict");
  NODES.forEach((nd, i) => {
    if ((nd.live || i === OUT) && nd.used && (nd.args.length || isInput(i))) {
      const opt = document.createElement("option");
      opt.value = String(i);
      opt.textContent = `${nd.name}${isInput(i) ? "" : " = " + nd.formula}`;
      select.appendChild(opt);
    }
  });

  function nodeEl(i) { return document.querySelector(`[data-node="${CSS.escape(NODES[i].name)}"]`); }
  function show(text, cls, result) {
    verdict.textContent = text;
    verdict.className = "verdict " + cls;
    verdict.setAttribute("data-right", result ? String(result.right) : "");
    verdict.setAttribute("data-kinds", result ? result.kinds.join(" ") : "");
  }
  function reveal(i) { const e = nodeEl(i); if (e) e.classList.add("revealed"); }

  function check() {
    const i = Number(select.value);
    const t = field.value.trim();
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) {
      show(`"${field.value}" is not a number: type the gradient you derived`, "wrong", null);
      return;
    }
    const answer = Number(t);
    const r = diagnose(i, answer);
    const name = NODES[i].name;
    const w = page.words;
    if (r.right) {
      show(`right: the gradient of ${name} is ${w.fmt(r.truth)}`, "right", r);
      reveal(i);
      return;
    }
    const lines = [`${name} = ${w.fmt(answer)}: not the gradient of ${name} (Reveal shows it)`];
    if (r.mistakes.length > 1) lines.push(`${r.mistakes.length} mistakes give this number:`);
    if (r.mistakes.length) for (const m of r.mistakes) lines.push("- " + m.text);
    else {
      lines.push(`no common mistake gives ${w.fmt(answer)}; how the gradient is made:`);
      for (const line of hintLines(i)) lines.push("  " + line);
    }
    show(lines.join("\n"), "wrong", r);
  }

  toggle.addEventListener("change", () => {
    document.body.classList.toggle("your-turn", toggle.checked);
    panel.hidden = !toggle.checked;
    document.querySelectorAll("[data-node].revealed").forEach((e) => e.classList.remove("revealed"));
    show("", "", null);
  });
  section.querySelector("[data-action=check-answer]").addEventListener("click", check);
  field.addEventListener("keydown", (e) => { if (e.key === "Enter") check(); });
  section.querySelector("[data-action=reveal]").addEventListener("click", () => {
    const i = Number(select.value);
    reveal(i);
    show(`the gradient of ${NODES[i].name} is ${page.words.fmt(page.state().grads[i])}`, "", null);
  });
  $("#graph").addEventListener("click", (e) => {
    if (!toggle.checked) return;
    const g = e.target.closest("[data-node]");
    if (!g) return;
    const i = NODES.findIndex((nd) => nd.name === g.getAttribute("data-node"));
    if ([...select.options].some((o) => o.value === String(i))) {
      select.value = String(i);
      field.focus();
    }
  });

  window.circuitPractice = { diagnose, hintLines };
})();
