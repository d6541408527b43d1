// The live page: state in words, the gauge, the heatmap, counters, warnings, two buttons.
"use strict";
(() => {
  const STATES = {
    empty: "Lie down on the mat",
    waiting: "Press your lower back flat and hold",
    calibrating: "Hold it… calibrating",
    resting: "Ready · back flat",
    exercising: "Back glued · keep going",
    lifted: "Back lifted! Press it down",
  };
  const $ = (id) => document.getElementById(id);
  const gauge = $("gauge");
  const heatmap = $("heatmap");
  let cells = [];

  function drawHeatmap(pressure) {
    const rows = pressure.length;
    const cols = rows ? pressure[0].length : 0;
    if (cells.length !== rows * cols) {
      heatmap.style.gridTemplateColumns = `repeat(${cols}, 1fr)`;
      heatmap.replaceChildren();
      cells = [];
      for (let i = 0; i < rows * cols; i++) {
        const cell = document.createElement("div");
        cell.className = "cell";
        heatmap.appendChild(cell);
        cells.push(cell);
      }
    }
    pressure.flat().forEach((v, i) => {
      const level = Math.max(0, Math.min(v, 1));
      // Light to deep blue as pressure rises; a dead or idle cell stays pale.
      cells[i].style.backgroundColor = `hsl(215, 80%, ${92 - level * 62}%)`;
      cells[i].title = `${Math.round(v * 100)} %`;
    });
  }

  function showWarnings(state, connected) {
    const items = [];
    if (!connected) items.push("The mat's daemon is not answering: reconnecting…");
    for (const row of state.offline_chips || []) items.push(`Chip for row ${row} is not answering: check its cable`);
    for (const [r, c] of state.dead_cells || []) items.push(`Cell row ${r}, column ${c} looks dead: ignored`);
    const box = $("warnings");
    box.hidden = items.length === 0;
    box.replaceChildren(...items.map((text) => Object.assign(document.createElement("p"), { textContent: text })));
  }

  let lastState = {};
  let connected = false;
  function onState(state) {
    lastState = state;
    $("banner").className = `banner state-${state.state}`;
    $("state-text").textContent = STATES[state.state] || state.state;
    Flatback.gauge(gauge, state.contact, state.floor, state.warning_floor);
    $("contact-value").textContent = state.contact === null ? "–" : `${Math.round(state.contact * 100)} %`;
    $("reps").textContent = state.reps;
    $("perfect").textContent = state.perfect_reps;
    $("liftoffs").textContent = state.liftoffs;
    $("set").textContent = state.set;
    drawHeatmap(state.pressure || []);
    showWarnings(state, true);
  }
  Flatback.live(onState, null, (ok) => {
    connected = ok;
    if (!ok) showWarnings(lastState, false);
  });

  async function command(path, done) {
    const result = $("action-result");
    const response = await fetch(path, { method: "POST" });
    const body = await response.json().catch(() => ({}));
    result.textContent = response.ok ? done : body.error || `failed (${response.status})`;
  }
  $("calibrate").addEventListener("click", () => command("/api/calibrate", "Hold your back flat: calibrating now."));
  $("stop").addEventListener("click", () => command("/api/session/stop", "Session ended and saved."));
})();
