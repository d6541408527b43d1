// Settings: the floor slider previews the new floor against the contact measured right now.
"use strict";
(() => {
  const slider = document.getElementById("floor");
  const output = document.getElementById("floor-value");
  const gauge = document.getElementById("preview-gauge");
  let contact = null;
  const draw = () => {
    const floor = parseFloat(slider.value);
    output.textContent = floor.toFixed(2);
    Flatback.gauge(gauge, contact, floor, Math.min(floor + 0.2, 0.98));
  };
  slider.addEventListener("input", draw);
  Flatback.live((state) => {
    contact = state.contact;
    document.getElementById("contact-value").textContent =
      contact === null ? "nobody on the mat" : `${Math.round(contact * 100)} %`;
    draw();
  });
  draw();
})();
