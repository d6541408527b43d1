// The report: perfect reps and lift-offs per session, and the mean descent against the target.
// Drawn at a fixed width so the printed page (A4) shows the same charts as the screen.
"use strict";
(async () => {
  const repsBox = document.getElementById("reps-chart");
  document.getElementById("print")?.addEventListener("click", () => window.print());
  if (!repsBox) return;
  const report = await (await fetch(repsBox.dataset.src)).json();
  const sessions = report.sessions;
  const x = sessions.map((s, i) => i + 1);
  const label = (i) => {
    const s = sessions[i - 1];
    return s ? new Date(s.started_at).toLocaleDateString(undefined, { day: "numeric", month: "short" }) : "";
  };
  const width = () => Math.min(repsBox.clientWidth - 8 || 340, 680);
  const xAxis = { values: (u, ticks) => ticks.map((v) => (Number.isInteger(v) ? label(v) : "")), space: 60 };
  const bars = uPlot.paths.bars({ size: [0.5, 40] });
  const top = Math.max(3, ...sessions.map((s) => Math.max(s.perfect_reps || 0, s.liftoffs || 0))) + 1;
  const reps = new uPlot({
    width: width(), height: 200, legend: { show: false },
    scales: { x: { time: false, range: [0.5, sessions.length + 0.5] }, y: { range: [0, top] } },
    series: [{}, { label: "perfect reps", stroke: "#1a7f37", width: 3, points: { size: 8, fill: "#1a7f37" } },
             { label: "lift-offs", stroke: "#cf222e", fill: "rgba(207, 34, 46, 0.3)", paths: bars, points: { show: false } }],
    axes: [xAxis, { size: 36 }],
  }, [x, sessions.map((s) => s.perfect_reps || 0), sessions.map((s) => s.liftoffs || 0)], repsBox);
  repsBox.dataset.drawn = "1";

  const descentBox = document.getElementById("descent-chart");
  const target = parseFloat(descentBox.dataset.target);
  const descents = sessions.map((s) => (typeof s.mean_descent_s === "number" ? s.mean_descent_s : null));
  const targetLine = FlatbackCharts.levelLine(target);
  const known = descents.filter((v) => v !== null);
  const descent = new uPlot({
    width: width(), height: 150, legend: { show: false }, plugins: [targetLine],
    scales: { x: { time: false, range: [0.5, sessions.length + 0.5] },
              y: { range: [0, Math.ceil(Math.max(target + 1, ...known))] } },
    series: [{}, { label: "descent s", stroke: "#0969da", width: 2, spanGaps: true, points: { size: 7, fill: "#0969da" } }],
    axes: [xAxis, { size: 36 }],
  }, [x, descents], descentBox);
  descentBox.dataset.drawn = "1";
  window.addEventListener("resize", () => {
    reps.setSize({ width: width(), height: 200 });
    descent.setSize({ width: width(), height: 150 });
  });
})();
