// The live page: the state in words, the gauge, the heatmap, counters, breathing, warnings, commands.
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
    floor_finder: ["Floor finder", "Legs up, then follow the beat down"],
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

  // Breathing: the rate ("–" while the mat cannot tell), the last 20 s of the breathing signal
  // (none while moving), and a held breath from its cue until the breathing shows again.
  const TRACE_SPAN_S = 20;
  const TRACE_MIN_HALF_RANGE = 3; // in the cells' noise: a flat, noisy trace stays small, never fills the box
  const HELD_SHOWN_MS = 6000; // the breath_hold event's note stays up at least this long
  let heldNote = null;
  let heldUntil = 0;

  function drawBreathTrace(trace) {
    const line = $("breath-trace").querySelector("polyline");
    const values = trace ? trace.values : [];
    $("breath-trace").dataset.samples = values.length;
    $("breath-trace-note").textContent = trace ? "breathing · last 20 s" : "lie still to see your breathing";
    if (values.length < 2) {
      line.setAttribute("points", "");
      return;
    }
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const half = Math.max(TRACE_MIN_HALF_RANGE, ...values.map((v) => Math.abs(v - mean))) * 1.1;
    const n = values.length;
    line.setAttribute("points", values.map((v, i) => {
      const x = 200 - ((n - 1 - i) * trace.dt_s / TRACE_SPAN_S) * 200; // the newest at the right edge
      const y = 30 - ((v - mean) / half) * 28;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    }).join(" "));
  }

  function showBreathing(state) {
    const rate = state.breath_rate_bpm;
    $("breath-rate").textContent = rate === null || rate === undefined ? "–" : rate.toFixed(0);
    $("breath-holds").textContent = state.breath_holds ?? 0;
    drawBreathTrace(state.breath_trace);
    const holding = state.breath_holding || Date.now() < heldUntil;
    if (!holding) heldNote = null;
    const box = $("breath-hold");
    box.hidden = !holding;
    box.textContent = heldNote || "You are holding your breath: breathe.";
  }

  // The plan: set x of y, perfect reps toward the set's target, the rest countdown, the depth.
  function showCoach(coach) {
    if (!coach) return;
    $("plan-set").textContent = coach.finished ? "done" : `${coach.set_of_plan} of ${coach.plan_sets}`;
    $("plan-perfect").textContent = `${Math.min(coach.set_perfect, coach.plan_reps)} / ${coach.plan_reps}`;
    const rest = coach.rest_remaining_s;
    const left = rest === null ? null : Math.ceil(rest);
    $("rest").textContent = left === null ? "–" : `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    $("depth").textContent = coach.depth === null ? "–" : `${Math.round(coach.depth * 100)} %`;
    const finder = coach.floor_finder;
    if (finder) {
      $("coach-note").textContent = finder.beat < 0 ? "Floor finder: legs up…" : `Floor finder: beat ${finder.beat} of ${finder.beats}`;
    } else if (rest !== null && rest > 0) {
      $("coach-note").textContent = "Rest: the next set starts at the two notes.";
    }
  }
  const COACH_NOTES = {
    stop_cue: () => "Stop here: your back gives way just below.",
    bounce: () => "Bounce: you rebounded at the bottom. Lower with muscle, not momentum.",
    set_done: (e) => (e.last ? "Plan done: well done." : `Set ${e.set} done: rest.`),
    floor_finder_result: (e) => (e.reached_floor ? "Floor finder: you reached the floor." : `Floor finder: your back began to give way at about ${Math.round(e.angle_deg)}°.`),
    floor_finder_problem: (e) => `Floor finder stopped: ${e.reason}.`,
  };

  function onEvent(event) {
    if (COACH_NOTES[event.type]) $("coach-note").textContent = COACH_NOTES[event.type](event);
    if (event.type !== "breath_hold") return;
    heldNote = `You have held your breath ${Math.round(event.duration_s)} s: breathe.`;
    heldUntil = Date.now() + HELD_SHOWN_MS;
    const box = $("breath-hold");
    box.textContent = heldNote;
    box.hidden = false;
  }

  // Who is on the mat: a suggestion ("Anna?" with change), a choice ("Anna"), or the question
  // when the mat is unsure (the guest's floor applies until someone is chosen).
  let pickOpen = false;
  function showWho(profile, mat) {
    const box = $("who");
    if (!profile) { box.hidden = true; return; }
    box.hidden = false;
    box.style.setProperty("--person", profile.colour);
    box.dataset.asking = String(profile.asking);
    box.dataset.profile = profile.id;
    const empty = mat === "empty";
    $("who-name").textContent = profile.asking ? "Who is on the mat?"
      : profile.suggested ? `${profile.name}?` : profile.name;
    $("change").textContent = profile.suggested ? "— change" : "change";
    $("change").hidden = profile.asking;
    $("who-note").textContent = profile.asking ? `The guest's floor applies until you choose.`
      : empty ? "next on the mat" : profile.suggested ? `${profile.name}'s floor applies.` : "";
    const pick = $("who-pick");
    pick.hidden = !(profile.asking || pickOpen);
    const ids = profile.profiles.map((p) => `${p.id}:${p.name}:${p.colour}`).join("|");
    if (pick.dataset.ids !== ids) {
      pick.dataset.ids = ids;
      pick.replaceChildren(...profile.profiles.map((p) => {
        const button = Object.assign(document.createElement("button"), { type: "button", textContent: p.name });
        button.style.setProperty("--c", p.colour);
        button.dataset.profile = p.id;
        button.addEventListener("click", async () => {
          const response = await fetch(`/api/profiles/${p.id}/choose`, { method: "POST" });
          pickOpen = false;
          $("action-result").textContent = response.ok ? `${p.name}: your settings apply.` : "Could not choose.";
        });
        return button;
      }));
    }
  }
  $("change").addEventListener("click", (e) => {
    e.preventDefault();
    pickOpen = !pickOpen;
    $("who-pick").hidden = !pickOpen;
  });

  function onState(state) {
    daemonUp = true;
    showWho(state.profile, state.state);
    showState(state.state);
    Flatback.gauge($("gauge"), state.contact, state.floor, state.warning_floor);
    $("contact-value").textContent = Flatback.percent(state.contact);
    $("reps").textContent = state.reps;
    $("perfect").textContent = state.perfect_reps;
    $("liftoffs").textContent = state.liftoffs;
    $("set").textContent = state.set;
    drawHeatmap(state);
    showBreathing(state);
    showWarnings(state);
    showCoach(state.coach);
    if (state.variant) $("variant").textContent = JSON.parse($("variant-line").dataset.names)[state.variant] || state.variant;
  }
  function onDaemon(connected) {
    daemonUp = connected;
    if (!connected) {
      showState("offline");
      showWarnings({});
      $("breath-rate").textContent = "–"; // no rate is better than a stale one
      drawBreathTrace(null);
    }
  }
  Flatback.live({ onState, onEvent, onDaemon });

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
