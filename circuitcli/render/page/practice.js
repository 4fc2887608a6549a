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

  // ---- at the node: the learner types the gradient into the drawing -----------------------
  // The switch hides every gradient (numbers, colours, arrows, edge labels). Each node that
  // has a gradient reads "dNAME = ?"; a click, a tap, or Enter on it (nodes are in the tab
  // order) opens a small editor anchored under the node: type, Enter checks, Escape closes.
  // The verdict and the diagnosis are shown there, and the node keeps the mark (✓ / ✗).
  const style = document.createElement("style");
  style.textContent = `
    body.your-turn .node .grad, body.your-turn .edge-label, body.your-turn .node .big,
    body.your-turn #inputs td:nth-child(3) { visibility: hidden; }
    body.your-turn .node.revealed .grad, body.your-turn .node.revealed .big { visibility: visible; }
    .node .try { display: none; }
    body.your-turn .node .try { display: inline; fill: #1d4ed8; font-weight: 700; }
    body.your-turn .node.revealed .try { display: none; }
    body.your-turn .node:not(.revealed) rect { fill: #fff; stroke: var(--line); }
    body.your-turn .node.output:not(.revealed) rect { stroke: #b45309; }
    body.your-turn .node.tried-wrong:not(.revealed) rect { stroke: var(--neg); stroke-dasharray: 4 3; }
    body.your-turn .node.answered-right rect { stroke: var(--pos); stroke-width: 3; }
    body.your-turn .node.tried-wrong .try { fill: var(--neg); }
    body.your-turn .edge path { stroke: #6b7280; marker-end: url(#arrow-zero); }
    body.your-turn [data-answerable] { cursor: pointer; }
    body.your-turn [data-answerable]:focus { outline: none; }
    body.your-turn [data-answerable]:focus rect, body.your-turn [data-answerable].editing rect {
      stroke: #2563eb; stroke-width: 3; }
    #graph-wrap { position: relative; }
    #your-turn { display: flex; flex-wrap: wrap; align-items: baseline; gap: 2px 10px; }
    #your-turn .hint { margin: 0; }
    #practice-editor { position: absolute; z-index: 5; width: min(26rem, calc(100% - 8px));
      background: #fff; border: 2px solid #2563eb; border-radius: 6px; padding: 6px 8px;
      box-shadow: 0 4px 14px rgba(0,0,0,.18); cursor: auto; font-size: 14px; }
    #practice-editor[hidden] { display: none; }
    #practice-editor .row { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; }
    #practice-editor label { font-family: ui-monospace, monospace; font-weight: 700; }
    #practice-editor input { font: 16px ui-monospace, monospace; width: 8em; min-width: 0; flex: 1 1 6em; }
    #practice-editor button { margin: 0; min-height: 2em; }
    #practice-editor .verdict { white-space: pre-wrap; overflow-wrap: anywhere; margin: 6px 0 0;
      font-size: 13px; max-height: 40vh; overflow: auto; }
    #practice-editor .verdict:empty { display: none; }
    #practice-editor .verdict.right { color: #1a7f37; } #practice-editor .verdict.wrong { color: #b42318; }`;
  document.head.appendChild(style);

  const section = document.createElement("section");
  section.id = "your-turn";
  section.className = "watch";
  section.innerHTML = `<span class="title">Your turn</span>
    <label><input type="checkbox" data-action="your-turn"> hide the gradients and derive them yourself</label>
    <p class="hint" hidden>Click a node (or Tab to it and press Enter) and type its gradient, d output / d node.</p>`;
  const column = $(".column");
  column.insertBefore(section, $(".zoom"));
  const toggle = section.querySelector("[data-action=your-turn]");
  const sectionHint = section.querySelector(".hint");

  const wrap = $("#graph-wrap");
  const editor = document.createElement("div");
  editor.id = "practice-editor";
  editor.setAttribute("role", "dialog");
  editor.hidden = true;
  editor.innerHTML = `<div class="row">
      <label for="practice-answer"></label>
      <input id="practice-answer" data-practice-answer type="text" inputmode="decimal"
        autocomplete="off" spellcheck="false">
      <button data-action="check-answer" type="button">Check</button>
      <button data-action="reveal" type="button">Reveal</button>
      <button data-action="close-answer" type="button" aria-label="close">×</button>
    </div>
    <p class="verdict" id="practice-verdict" aria-live="polite"></p>`;
  wrap.appendChild(editor);
  // the drawing pans with a mouse drag: not from inside the editor (text is selected there)
  editor.addEventListener("pointerdown", (e) => e.stopPropagation());
  const field = editor.querySelector("[data-practice-answer]");
  const label = editor.querySelector("label");
  const verdict = editor.querySelector("#practice-verdict");

  // the nodes a learner can answer for: those with a gradient, as `check --expect` lists them
  const answerable = [];
  NODES.forEach((nd, i) => {
    if ((nd.live || i === OUT) && nd.used && (nd.args.length || isInput(i))) answerable.push(i);
  });
  const marks = {}; // node -> {answer, right}
  const nodeEl = (i) => document.querySelector(`#graph [data-node="${CSS.escape(NODES[i].name)}"]`);
  const tries = {};
  for (const i of answerable) {
    const g = nodeEl(i);
    if (!g) continue;
    g.setAttribute("data-answerable", "");
    const grad = g.querySelector(".grad");
    const t = document.createElementNS("http://www.w3.org/2000/svg", "text");
    t.setAttribute("class", "try");
    t.setAttribute("x", grad ? grad.getAttribute("x") : "8");
    t.setAttribute("y", grad ? grad.getAttribute("y") : "62");
    g.appendChild(t);
    tries[i] = t;
  }
  const room = (i) => {
    const r = nodeEl(i).querySelector("rect");
    return Math.max(6, Math.floor((Number(r.getAttribute("width")) - 16) / 7.3));
  };
  const clip = (text, n) => (text.length <= n ? text : text.slice(0, n - 1) + "…");
  function nodeText(i) {
    const name = NODES[i].name;
    const m = marks[i];
    const said = m ? `${page.words.fmt(m.answer)} ${m.right ? "✓" : "✗"}` : "?";
    return clip(`d${name} = ${said}`, room(i));
  }
  function paint(i) {
    const g = nodeEl(i);
    if (!g) return;
    tries[i].textContent = nodeText(i);
    const m = marks[i];
    g.classList.toggle("tried-wrong", Boolean(m && !m.right));
    g.classList.toggle("answered-right", Boolean(m && m.right));
    g.setAttribute("aria-label", `d${NODES[i].name}: ${m ? (m.right ? "right, " : "wrong, ")
      + page.words.fmt(m.answer) : "type your gradient"}`);
  }

  let current = -1;
  function show(text, cls, result) {
    verdict.textContent = text;
    verdict.className = "verdict " + cls;
    verdict.setAttribute("data-right", result ? String(result.right) : "");
    verdict.setAttribute("data-kinds", result ? result.kinds.join(" ") : "");
    makeRoom();
  }
  function place(i) {
    const g = nodeEl(i);
    const box = g.getBoundingClientRect();
    const frame = wrap.getBoundingClientRect();
    const left = box.left - frame.left + wrap.scrollLeft;
    const top = box.bottom - frame.top + wrap.scrollTop + 4;
    const width = editor.offsetWidth;
    const most = wrap.scrollLeft + wrap.clientWidth - width - 4;
    editor.style.left = Math.max(wrap.scrollLeft + 4, Math.min(left, most)) + "px";
    editor.style.top = top + "px";
    makeRoom();
  }
  // the drawing's frame grows under the editor, so the verdict is never cut off by it
  function makeRoom() {
    wrap.style.paddingBottom = "";
    if (editor.hidden) return;
    const below = editor.offsetTop + editor.offsetHeight + 6 - wrap.scrollHeight;
    if (below > 0) wrap.style.paddingBottom = below + "px";
    editor.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
  function open(i) {
    if (!toggle.checked || !answerable.includes(i)) return;
    if (current >= 0 && nodeEl(current)) nodeEl(current).classList.remove("editing");
    current = i;
    nodeEl(i).classList.add("editing");
    label.textContent = `d${NODES[i].name} =`;
    editor.setAttribute("aria-label", `the gradient of ${NODES[i].name}`);
    editor.setAttribute("data-for", NODES[i].name);
    field.value = marks[i] ? String(marks[i].answer) : "";
    show("", "", null);
    editor.hidden = false;
    place(i);
    field.focus({ preventScroll: true });
    makeRoom();
  }
  function closeEditor(back) {
    if (current < 0) return;
    const g = nodeEl(current);
    editor.hidden = true;
    wrap.style.paddingBottom = "";
    if (g) {
      g.classList.remove("editing");
      if (back) g.focus({ preventScroll: true });
    }
    current = -1;
  }
  function reveal(i) { const e = nodeEl(i); if (e) e.classList.add("revealed"); }

  function check() {
    const i = current;
    if (i < 0) return;
    const t = field.value.trim();
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) {
      show(`"${field.value}" is not a number: type the gradient you derived`, "wrong", null);
      return;
    }
    const answer = Number(t);
    const r = diagnose(i, answer);
    const name = NODES[i].name;
    const w = page.words;
    marks[i] = { answer, right: r.right };
    paint(i);
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

  function forget() { // new values: what was answered no longer applies
    for (const k of Object.keys(marks)) delete marks[k];
    document.querySelectorAll("#graph .node.revealed").forEach((e) => e.classList.remove("revealed"));
    for (const i of answerable) if (tries[i]) paint(i);
    closeEditor(false);
  }

  toggle.addEventListener("change", () => {
    const on = toggle.checked;
    document.body.classList.toggle("your-turn", on);
    sectionHint.hidden = !on;
    forget();
    for (const i of answerable) {
      const g = nodeEl(i);
      if (!g) continue;
      if (on) { g.setAttribute("tabindex", "0"); g.setAttribute("role", "button"); }
      else { g.removeAttribute("tabindex"); g.removeAttribute("role"); g.removeAttribute("aria-label"); }
    }
  });
  editor.querySelector("[data-action=check-answer]").addEventListener("click", check);
  editor.querySelector("[data-action=close-answer]").addEventListener("click", () => closeEditor(true));
  field.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); check(); }
  });
  editor.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.preventDefault(); closeEditor(true); }
  });
  editor.querySelector("[data-action=reveal]").addEventListener("click", () => {
    const i = current;
    if (i < 0) return;
    reveal(i);
    show(`the gradient of ${NODES[i].name} is ${page.words.fmt(page.state().grads[i])}`, "", null);
  });
  const indexOf = (g) => NODES.findIndex((nd) => nd.name === g.getAttribute("data-node"));
  $("#graph").addEventListener("click", (e) => {
    if (!toggle.checked) return;
    const g = e.target.closest("[data-answerable]");
    if (g) open(indexOf(g));
  });
  $("#graph").addEventListener("keydown", (e) => {
    if (!toggle.checked || (e.key !== "Enter" && e.key !== " ")) return;
    const g = e.target.closest("[data-answerable]");
    if (!g) return;
    e.preventDefault();
    open(indexOf(g));
  });
  // the values change (an input typed, a step, reset): the answers were for the old ones
  document.addEventListener("input", (e) => { if (e.target.matches("[data-input]")) forget(); });
  for (const sel of ["[data-action=step]", "[data-action=reset]"]) {
    const b = $(sel);
    if (b) b.addEventListener("click", forget);
  }
  // zoom and resize move the node: the editor follows it
  window.addEventListener("resize", () => { if (current >= 0) place(current); });
  for (const sel of ["[data-action=zoom-in]", "[data-action=zoom-out]", "[data-action=zoom-fit]"]) {
    const b = $(sel);
    if (b) b.addEventListener("click", () => { if (current >= 0) place(current); });
  }

  window.circuitPractice = { diagnose, hintLines, open };
})();
