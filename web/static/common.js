// Shared by the live and settings pages: the live stream and the contact gauge.
"use strict";
window.Flatback = {
  // Subscribe to the daemon's live stream (Server-Sent Events); the browser reconnects by itself.
  // onDaemon(connected) says whether the mat's daemon is answering.
  live({ onState, onEvent, onDaemon }) {
    const source = new EventSource("/api/live");
    source.addEventListener("state", (e) => onState && onState(JSON.parse(e.data)));
    source.addEventListener("event", (e) => onEvent && onEvent(JSON.parse(e.data).event));
    source.addEventListener("daemon", (e) => onDaemon && onDaemon(JSON.parse(e.data).connected));
    source.onerror = () => onDaemon && onDaemon(false);
    return source;
  },
  // Draw lumbar contact (0..1.2 shown; 1.0 = pressed as at calibration) against the floor line
  // and the warning band just above it.
  gauge(root, contact, floor, warningFloor) {
    const top = 1.2;
    const pct = (v) => `${(Math.max(0, Math.min(v, top)) / top) * 100}%`;
    const fill = root.querySelector(".gauge-fill");
    const floorLine = root.querySelector(".gauge-floor");
    const warning = root.querySelector(".gauge-warning");
    floorLine.style.bottom = pct(floor);
    root.querySelector(".gauge-floor-value").textContent = floor.toFixed(2);
    warning.style.bottom = pct(floor);
    warning.style.height = `calc(${pct(warningFloor)} - ${pct(floor)})`;
    if (contact === null || contact === undefined) {
      fill.style.height = "0";
      root.dataset.zone = "none";
      root.removeAttribute("aria-valuenow");
      return;
    }
    fill.style.height = pct(contact);
    root.dataset.zone = contact < floor ? "lifted" : contact < warningFloor ? "warning" : "ok";
    root.setAttribute("aria-valuenow", contact.toFixed(2));
  },
  percent(contact) {
    return contact === null || contact === undefined ? "–" : `${Math.round(contact * 100)} %`;
  },
};
