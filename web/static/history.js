// History: perfect reps (and all reps) per session over the weeks, with the goal line.
"use strict";
(async () => {
  const box = document.getElementById("history-chart");
  if (!box) return;
  const sessions = (await (await fetch(box.dataset.src)).json()).slice().reverse();
  const goal = parseFloat(box.dataset.goal);
  const x = sessions.map((s) => Date.parse(s.started_at) / 1000);
  const perfect = sessions.map((s) => s.perfect_reps || 0);
  const reps = sessions.map((s) => s.reps || 0);
  const goalLine = {
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx;
        const y = u.valToPos(goal, "y", true);
        ctx.save();
        ctx.strokeStyle = "#1a7f37"; ctx.setLineDash([6, 4]); ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
        ctx.restore();
      }],
    },
  };
  const top = Math.max(goal + 3, ...reps, ...perfect);
  const chart = new uPlot({
    width: box.clientWidth - 8 || 340, height: 220, plugins: [goalLine],
    scales: { x: { time: true }, y: { range: [0, top] } },
    series: [{ label: "day" },
             { label: "perfect", stroke: "#1a7f37", width: 3, points: { size: 9, fill: "#1a7f37" } },
             { label: "all reps", stroke: "#8c959f", width: 1.5, dash: [4, 4], points: { size: 5 } }],
    legend: { show: false },
    axes: [{ space: 70, values: (u, ticks) => ticks.map((v) => new Date(v * 1000).toLocaleDateString(undefined, { day: "numeric", month: "short" })) },
           { size: 40 }],
  }, [x, perfect, reps], box);
  window.addEventListener("resize", () => chart.setSize({ width: box.clientWidth - 8, height: 220 }));
  box.dataset.drawn = "1";
})();
