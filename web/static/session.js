// One session: lumbar contact over time with the floor line, lift-offs shaded, reps marked;
// below it the breathing rate with held breaths.
"use strict";
(async () => {
  const box = document.getElementById("session-chart");
  const data = await (await fetch(box.dataset.src)).json();
  const floor = parseFloat(box.dataset.floor);
  const samples = data.contact;
  // The daemon's times are monotonic seconds; show them from the session's start.
  const starts = [samples.t[0], data.events.length ? data.events[0].t : undefined].filter((v) => v !== undefined);
  const t0 = starts.length ? Math.min(...starts) : 0;
  const t = samples.t.map((v) => v - t0);
  const liftoffs = [];
  let start = null;
  for (const e of data.events) {
    if (e.type === "liftoff") start = e.t - t0;
    if (e.type === "contact" && start !== null) { liftoffs.push([start, e.t - t0]); start = null; }
  }
  if (start !== null) liftoffs.push([start, t.length ? t[t.length - 1] : start]);
  const reps = data.reps.map((r) => ({ t: (r.t_end ?? r.t_bottom) - t0, perfect: !!r.perfect }));
  // Both charts share one time axis, from the session's start to its last sample or event.
  const lastT = Math.max(t.length ? t[t.length - 1] : 0, ...data.events.map((e) => e.t - t0), 1);
  const xRange = () => [0, lastT];
  const dpr = devicePixelRatio;
  const marks = {
    hooks: {
      drawClear: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = "rgba(207, 34, 46, 0.2)";
        for (const [a, b] of liftoffs) {
          const x0 = u.valToPos(a, "x", true), x1 = u.valToPos(b, "x", true);
          ctx.fillRect(x0, u.bbox.top, Math.max(x1 - x0, 2 * dpr), u.bbox.height);
        }
        ctx.restore();
      }],
      draw: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        const y = u.valToPos(floor, "y", true);
        ctx.strokeStyle = "#cf222e"; ctx.setLineDash([6 * dpr, 4 * dpr]); ctx.lineWidth = 2 * dpr;
        ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
        ctx.setLineDash([]); ctx.lineWidth = 1.5 * dpr;
        for (const rep of reps) {
          const x = u.valToPos(rep.t, "x", true);
          ctx.strokeStyle = rep.perfect ? "rgba(26, 127, 55, 0.8)" : "rgba(207, 34, 46, 0.9)";
          ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + 10 * dpr); ctx.stroke();
          ctx.fillStyle = ctx.strokeStyle;
          ctx.beginPath(); ctx.arc(x, u.bbox.top + 12 * dpr, 3.5 * dpr, 0, 2 * Math.PI); ctx.fill();
        }
        ctx.restore();
      }],
    },
  };
  const chart = new uPlot({
    width: box.clientWidth - 8 || 340, height: 240, plugins: [marks],
    scales: { x: { time: false, range: xRange }, y: { range: [0, 1.3] } },
    legend: { show: false },
    series: [{ label: "s", value: (u, v) => (v == null ? "–" : `${v.toFixed(1)} s`) },
             { label: "contact", stroke: "#0969da", width: 1.5, value: (u, v) => (v == null ? "–" : v.toFixed(2)) }],
    axes: [{ values: (u, ticks) => ticks.map((v) => (v >= 60 ? `${Math.floor(v / 60)}:${String(Math.round(v % 60)).padStart(2, "0")}` : `${v} s`)) },
           { size: 48, values: (u, ticks) => ticks.map((v) => v.toFixed(2).replace(/0$/, "")) }],
  }, [t, samples.values], box);
  window.addEventListener("resize", () => chart.setSize({ width: box.clientWidth - 8, height: 240 }));
  box.dataset.drawn = "1";
  drawBreathing(data.events, t0, xRange);
})();

// Breathing: the rate every 10 s (gaps where the mat could not tell: moving, a held breath),
// and each held breath shaded from when it stopped to its cue.
function drawBreathing(events, t0, xRange) {
  const box = document.getElementById("breath-chart");
  const rates = events.filter((e) => e.type === "breathing");
  const holds = events.filter((e) => e.type === "breath_hold")
    .map((e) => [e.t - t0 - (e.duration_s || 0), e.t - t0]);
  if (!rates.length && !holds.length) {
    box.replaceWith(Object.assign(document.createElement("p"), { textContent: "No breathing was measured in this session." }));
    return;
  }
  const x = rates.map((e) => e.t - t0);
  const bpm = rates.map((e) => (typeof e.rate_bpm === "number" ? e.rate_bpm : null));
  const known = bpm.filter((v) => v !== null);
  const yRange = () => (known.length ? [Math.max(0, Math.floor(Math.min(...known) - 4)), Math.ceil(Math.max(...known) + 4)]
                                     : [0, 30]);
  const dpr = devicePixelRatio;
  let marked = 0;
  const holdMarks = {
    hooks: {
      drawClear: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        marked = 0;
        for (const [a, b] of holds) {
          const x0 = u.valToPos(a, "x", true), x1 = u.valToPos(b, "x", true);
          ctx.fillStyle = "rgba(9, 105, 218, 0.25)";
          ctx.fillRect(x0, u.bbox.top, Math.max(x1 - x0, 2 * dpr), u.bbox.height);
          ctx.fillStyle = "#0969da"; // the cue
          ctx.fillRect(x1 - dpr, u.bbox.top, 2 * dpr, u.bbox.height);
          marked += 1;
        }
        ctx.restore();
        box.dataset.holds = marked;
      }],
    },
  };
  const height = 150;
  const chart = new uPlot({
    width: box.clientWidth - 8 || 340, height, plugins: [holdMarks],
    scales: { x: { time: false, range: xRange }, y: { range: yRange } },
    legend: { show: false },
    series: [{ label: "s" },
             { label: "breaths/min", stroke: "#8250df", width: 2, spanGaps: false, points: { show: true, size: 6, fill: "#8250df" },
               value: (u, v) => (v == null ? "–" : v.toFixed(1)) }],
    axes: [{ values: (u, ticks) => ticks.map((v) => (v >= 60 ? `${Math.floor(v / 60)}:${String(Math.round(v % 60)).padStart(2, "0")}` : `${v} s`)) },
           { size: 48 }],
  }, [x, bpm], box);
  window.addEventListener("resize", () => chart.setSize({ width: box.clientWidth - 8, height }));
  box.dataset.rates = known.length;
  box.dataset.drawn = "1";
}
document.querySelectorAll("form.confirm-delete").forEach((form) =>
  form.addEventListener("submit", (e) => { if (!confirm("Delete this session for good?")) e.preventDefault(); }));
