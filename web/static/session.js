// One session: lumbar contact over time with the floor line, lift-offs shaded, reps marked.
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
    scales: { x: { time: false }, y: { range: [0, 1.3] } },
    legend: { show: false },
    series: [{ label: "s", value: (u, v) => (v == null ? "–" : `${v.toFixed(1)} s`) },
             { label: "contact", stroke: "#0969da", width: 1.5, value: (u, v) => (v == null ? "–" : v.toFixed(2)) }],
    axes: [{ values: (u, ticks) => ticks.map((v) => (v >= 60 ? `${Math.floor(v / 60)}:${String(Math.round(v % 60)).padStart(2, "0")}` : `${v} s`)) },
           { size: 48, values: (u, ticks) => ticks.map((v) => v.toFixed(2).replace(/0$/, "")) }],
  }, [t, samples.values], box);
  window.addEventListener("resize", () => chart.setSize({ width: box.clientWidth - 8, height: 240 }));
  box.dataset.drawn = "1";
})();
document.querySelectorAll("form.confirm-delete").forEach((form) =>
  form.addEventListener("submit", (e) => { if (!confirm("Delete this session for good?")) e.preventDefault(); }));
