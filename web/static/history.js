// History: perfect reps (and all reps) per session over time, drawn with uPlot.
"use strict";
(async () => {
  const box = document.getElementById("history-chart");
  if (!box) return;
  const sessions = (await (await fetch(box.dataset.src)).json()).slice().reverse();
  const x = sessions.map((s) => Date.parse(s.started_at) / 1000);
  const perfect = sessions.map((s) => s.perfect_reps || 0);
  const reps = sessions.map((s) => s.reps || 0);
  new uPlot({
    width: box.clientWidth || 340, height: 220,
    scales: { x: { time: true } },
    series: [{}, { label: "perfect reps", stroke: "#1a7f37", width: 3, points: { size: 8 } },
             { label: "all reps", stroke: "#8c959f", width: 1, dash: [4, 4] }],
    axes: [{}, { label: "reps" }],
  }, [x, perfect, reps], box);
  box.dataset.drawn = "1";
})();
