// The live page: the state in words, the gauge, the heatmap, counters, warnings, commands.
"use strict";
(() => {
  // What each state means to someone lying on the floor: a word and what to do.
  const STATES = {
    empty: ["Empty", "Lie down on the mat"],
    waiting: ["Waiting", "Lie still, then press your lower back flat and hold"],
    calibrating: ["Calibrating", "Hold it… keep the back pressed"],
    resting: ["Resting", "Ready · back flat"],
    exercising: ["Exercising", "Back glued · keep going"],
    lifted: ["Lifted", "Press your back down!"],
    offline: ["Mat offline", "The mat's daemon is not answering: retrying…"],
  };
  // Why the mat cannot calibrate yet (the pipeline's calibration_problem), and what helps.
  const CALIBRATION_PROBLEMS = {
    not_still: "Can't calibrate yet: lie still with your legs on the floor for 3 seconds, then press your lower back flat.",
    no_body: "Can't calibrate: the mat feels too little load. Lie with the pad under your lower back.",
    no_lumbar_cells: "Can't find your lower back on the mat: lie with the pad's top edge at your lowest ribs.",
  };
  const $ = (id) => document.getElementById(id);
  const heatmap = $("heatmap");
  let cells = [];
  let daemonUp = false;

  function showState(name) {
    const [word, hint] = STATES[name] || [name, ""];
    $("banner").dataset.state = name;
    $("state-word").textContent = word;
    $("state-hint").textContent = hint;
  }

  function drawHeatmap(state) {
    const pressure = state.pressure || [];
    const rows = pressure.length;
    const cols = rows ? pressure[0].length : 0;
    if (cells.length !== rows * cols) {
      heatmap.style.gridTemplateColumns = `repeat(${cols}, 1fr)`;
      cells = Array.from({ length: rows * cols }, () => document.createElement("div"));
      cells.forEach((cell) => { cell.className = "cell"; });
      heatmap.replaceChildren(...cells);
    }
    const dead = new Set((state.dead_cells || []).map(([r, c]) => r * cols + c));
    const offline = new Set(state.offline_chips || []);
    pressure.flat().forEach((v, i) => {
      const cell = cells[i];
      const level = Math.max(0, Math.min(v ?? 0, 1));
      cell.classList.toggle("dead", dead.has(i));
      cell.classList.toggle("offline", offline.has(Math.floor(i / cols)));
      // Pale to deep blue as the pressure rises (1 = as pressed at calibration).
      cell.style.backgroundColor = `hsl(215, 80%, ${93 - level * 63}%)`;
      cell.title = `row ${Math.floor(i / cols)}, column ${i % cols}: ${Math.round(level * 100)} %`;
    });
  }

  function showWarnings(state) {
    const items = [];
    if (!daemonUp) items.push("The mat's daemon is not answering. Is it running? Retrying…");
    for (const row of state.offline_chips || []) items.push(`The chip for row ${row} is not answering: check its cable.`);
    for (const [r, c] of state.dead_cells || []) items.push(`Cell row ${r}, column ${c} looks dead: it is left out.`);
    const problem = CALIBRATION_PROBLEMS[state.calibration_problem];
    if (problem) items.push(problem);
    const box = $("warnings");
    box.hidden = items.length === 0;
    box.replaceChildren(...items.map((text) => Object.assign(document.createElement("p"), { textContent: text })));
  }

  function onState(state) {
    daemonUp = true;
    showState(state.state);
    Flatback.gauge($("gauge"), state.contact, state.floor, state.warning_floor);
    $("contact-value").textContent = Flatback.percent(state.contact);
    $("reps").textContent = state.reps;
    $("perfect").textContent = state.perfect_reps;
    $("liftoffs").textContent = state.liftoffs;
    $("set").textContent = state.set;
    drawHeatmap(state);
    showWarnings(state);
  }
  function onDaemon(connected) {
    daemonUp = connected;
    if (!connected) {
      showState("offline");
      showWarnings({});
    }
  }
  Flatback.live({ onState, onDaemon });

  document.querySelectorAll("button[data-command]").forEach((button) => {
    button.addEventListener("click", async () => {
      const result = $("action-result");
      button.disabled = true;
      try {
        const response = await fetch(button.dataset.command, { method: "POST" });
        const body = await response.json().catch(() => ({}));
        result.textContent = response.ok ? button.dataset.done : body.error || `Failed (${response.status}).`;
        result.classList.toggle("bad", !response.ok);
      } catch (error) {
        result.textContent = "The mat's page is not answering.";
        result.classList.add("bad");
      } finally {
        button.disabled = false;
      }
    });
  });
})();
