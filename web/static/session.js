// One session: lumbar contact over time with the floor line, lift-offs shaded, reps marked.
"use strict";
(async () => {
  const box = document.getElementById("session-chart");
  const data = await (await fetch(box.dataset.src)).json();
  const floor = parseFloat(box.dataset.floor);
  const t = data.contact.t;
  const liftoffs = [];
  let start = null;
  for (const e of data.events) {
    if (e.type === "liftoff") start = e.t;
    if (e.type === "contact" && start !== null) { liftoffs.push([start, e.t]); start = null; }
  }
  const repEnds = data.reps.map((r) => r.t_end);
  const marks = {
    hooks: {
      drawClear: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = "rgba(207, 34, 46, 0.18)";
        for (const [a, b] of liftoffs) {
          const x0 = u.valToPos(a, "x", true), x1 = u.valToPos(b, "x", true);
          ctx.fillRect(x0, u.bbox.top, Math.max(x1 - x0, 2), u.bbox.height);
        }
        ctx.restore();
      }],
      draw: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = "#cf222e"; ctx.setLineDash([6, 4]); ctx.lineWidth = 2;
        const y = u.valToPos(floor, "y", true);
        ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
        ctx.setLineDash([]); ctx.strokeStyle = "rgba(26, 127, 55, 0.7)"; ctx.lineWidth = 1;
        for (const te of repEnds) {
          const x = u.valToPos(te, "x", true);
          ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
        }
        ctx.restore();
      }],
    },
  };
  new uPlot({
    width: box.clientWidth || 340, height: 240, plugins: [marks],
    scales: { x: { time: false }, y: { range: [0, 1.3] } },
    series: [{ label: "s" }, { label: "contact", stroke: "#0969da", width: 1.5 }],
    axes: [{ label: "seconds" }, {}],
  }, [t, data.contact.values], box);
  box.dataset.drawn = "1";
})();
document.querySelectorAll("form.confirm-delete").forEach((form) =>
  form.addEventListener("submit", (e) => { if (!confirm("Delete this session for good?")) e.preventDefault(); }));
