// The week view's charts: sessions per week against the 2–3 goal (a band), perfect reps per
// week, and each session's mean descent over time against the 3 s of the progression rule.
"use strict";
(async () => {
  const box = document.getElementById("sessions-chart");
  const view = await (await fetch(box.dataset.src)).json();
  const DAY = 86400;
  const weekX = view.weeks.map((w) => Date.parse(`${w.start}T00:00:00`) / 1000);
  const tickLabel = (v) => new Date(v * 1000).toLocaleDateString(undefined, { day: "numeric", month: "short" });
  const timeAxis = { space: 60, incrs: [DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY, 365 * DAY],
                     values: (u, ticks) => ticks.map(tickLabel) };
  const span = [weekX[0] - 3.5 * DAY, weekX[weekX.length - 1] + 3.5 * DAY];
  const bars = uPlot.paths.bars({ size: [0.6, 40] });
  const height = 170;
  const draw = (el, series, data, scales, plugins = []) => {
    const chart = new uPlot({ width: el.clientWidth - 8 || 340, height, legend: { show: false }, plugins,
                              scales, axes: [timeAxis, { size: 40 }], series: [{}, ...series] }, data, el);
    window.addEventListener("resize", () => chart.setSize({ width: el.clientWidth - 8, height }));
    el.dataset.values = data[1].map((v) => (v === null ? "" : v)).join(",");  // what is drawn, for tests
    el.dataset.drawn = "1";
  };
  const sessions = view.weeks.map((w) => w.sessions);
  draw(box, [{ label: "sessions", fill: "rgba(9, 105, 218, 0.55)", stroke: "#0969da", paths: bars, points: { show: false } }],
       [weekX, sessions],
       { x: { time: true, range: () => span }, y: { range: () => [0, Math.max(view.goal.max + 1, ...sessions)] } },
       [FlatbackCharts.band(view.goal.min, view.goal.max)]);
  const perfect = view.weeks.map((w) => w.perfect_reps);
  draw(document.getElementById("perfect-chart"),
       [{ label: "perfect reps", fill: "rgba(26, 127, 55, 0.55)", stroke: "#1a7f37", paths: bars, points: { show: false } }],
       [weekX, perfect], { x: { time: true, range: () => span }, y: { range: () => [0, Math.max(10, ...perfect) + 2] } });
  const descentBox = document.getElementById("descent-chart");
  if (!view.descents.length) {
    descentBox.replaceWith(Object.assign(document.createElement("p"), { id: "descent-chart", textContent: "No descents timed in these weeks yet." }));
    return;
  }
  const target = 3;
  const descents = view.descents.map((d) => d.mean_descent_s);
  draw(descentBox, [{ label: "descent s", stroke: "#8250df", width: 2, points: { size: 7, fill: "#8250df" } }],
       [view.descents.map((d) => Date.parse(d.started_at) / 1000), descents],
       { x: { time: true, range: () => span }, y: { range: () => [0, Math.max(target + 1, ...descents) + 0.5] } },
       [FlatbackCharts.levelLine(target)]);
})();
