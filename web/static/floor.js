// The floor finder's page: start it, follow its beat, and show the new result once stored.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const status = $("floor-finder-status");
  $("floor-finder").addEventListener("click", async () => {
    const result = $("action-result");
    try {
      const response = await fetch("/api/floor-finder", { method: "POST" });
      const body = await response.json().catch(() => ({}));
      result.textContent = response.ok ? $("floor-finder").dataset.done : body.error || `Failed (${response.status}).`;
      result.classList.toggle("bad", !response.ok);
    } catch (error) {
      result.textContent = "The mat's page is not answering.";
      result.classList.add("bad");
    }
  });
  Flatback.live({
    onEvent(event) {
      if (event.type === "floor_finder_beat") {
        status.textContent = event.beat < 0 ? `Legs up… ${-event.beat}` : event.beat === 0 ? "Go: lower slowly" : `Beat ${event.beat}`;
      } else if (event.type === "floor_finder_problem") {
        status.textContent = `The floor finder stopped: ${event.reason}.`;
      } else if (event.type === "floor_finder_result") {
        status.textContent = event.reached_floor ? "You reached the floor without your back giving way."
          : `Stop: your back began to give way at about ${Math.round(event.angle_deg)}°.`;
        setTimeout(() => window.location.reload(), 2500); // the store commits about every second
      }
    },
  });
})();
