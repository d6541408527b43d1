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
  const goalLine = FlatbackCharts.levelLine(goal);
  const top = Math.max(goal + 3, ...reps, ...perfect);
  const DAY = 86400;
  // One session (or all on one day) gives the time axis no span: uPlot then pads it by years
  // and ticks on New Year ("Jan 1" under every tick). Show the week around them instead.
  const oneDay = x.length > 0 && x[x.length - 1] - x[0] < DAY;
  const tickLabel = (v) => new Date(v * 1000).toLocaleDateString(undefined, { day: "numeric", month: "short" });
  const chart = new uPlot({
    width: box.clientWidth - 8 || 340, height: 220, plugins: [goalLine],
    scales: { x: { time: true }, y: { range: [0, top] } },
    series: [{ label: "day" },
             { label: "perfect", stroke: "#1a7f37", width: 3, points: { size: 9, fill: "#1a7f37" } },
             { label: "all reps", stroke: "#8c959f", width: 1.5, dash: [4, 4], points: { size: 5 } }],
    legend: { show: false },
    axes: [{ space: 70, incrs: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY, 365 * DAY],
             values: (u, ticks) => {
               const labels = ticks.map(tickLabel);
               box.dataset.ticks = labels.join("|"); // what the axis shows, for tests
               return labels;
             } },
           { size: 40 }],
  }, [x, perfect, reps], box);
  if (oneDay) chart.setScale("x", { min: x[0] - 3.5 * DAY, max: x[x.length - 1] + 3.5 * DAY });
  window.addEventListener("resize", () => chart.setSize({ width: box.clientWidth - 8, height: 220 }));
  box.dataset.drawn = "1";
})();
