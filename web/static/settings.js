// Settings: the floor slider previews the new floor against the contact measured right now.
"use strict";
(() => {
  const slider = document.getElementById("floor");
  const output = document.getElementById("floor-value");
  const gauge = document.getElementById("preview-gauge");
  let contact = null;
  let warningBand = 0.15; // warning zone width above the floor; the daemon's own once it speaks
  const draw = () => {
    const floor = parseFloat(slider.value);
    output.textContent = floor.toFixed(2);
    Flatback.gauge(gauge, contact, floor, Math.min(floor + warningBand, 0.98));
  };
  slider.addEventListener("input", draw);
  Flatback.live({
    onState(state) {
      contact = state.contact;
      if (state.warning_floor > state.floor) warningBand = state.warning_floor - state.floor;
      document.getElementById("contact-value").textContent =
        contact === null ? "nobody on the mat" : Flatback.percent(contact);
      draw();
    },
    onDaemon(connected) {
      if (!connected) document.getElementById("contact-value").textContent = "the mat is not running";
    },
  });
  draw();
})();
