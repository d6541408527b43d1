// Shared by the charts, as uPlot plugins: a dashed horizontal line at a value (a goal, a target)
// and a shaded band between two values.
"use strict";
window.FlatbackCharts = {
  // A shaded band between two values (the goal of 2–3 sessions a week), drawn under the series.
  band(low, high, colour = "rgba(26, 127, 55, 0.15)") {
    return {
      hooks: {
        drawClear: [(u) => {
          const ctx = u.ctx;
          const top = u.valToPos(high, "y", true), bottom = u.valToPos(low, "y", true);
          ctx.save();
          ctx.fillStyle = colour;
          ctx.fillRect(u.bbox.left, top, u.bbox.width, bottom - top);
          ctx.restore();
        }],
      },
    };
  },
  levelLine(value, colour = "#1a7f37") {
    return {
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx;
          const y = u.valToPos(value, "y", true);
          ctx.save();
          ctx.strokeStyle = colour; ctx.setLineDash([6, 4]); ctx.lineWidth = 1.5 * devicePixelRatio;
          ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
          ctx.restore();
        }],
      },
    };
  },
};
