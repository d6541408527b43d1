// Shared by the charts: a dashed horizontal line at a value (a goal, a target), as a uPlot plugin.
"use strict";
window.FlatbackCharts = {
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
