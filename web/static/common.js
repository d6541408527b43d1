// Shared by the live and settings pages: the live stream and the contact gauge.
"use strict";
window.Flatback = {
  // Subscribe to the daemon's live stream (Server-Sent Events); reconnects by itself.
  live(onState, onEvent, onStatus) {
    const source = new EventSource("/api/live");
    source.addEventListener("state", (e) => onState(JSON.parse(e.data)));
    source.addEventListener("event", (e) => onEvent && onEvent(JSON.parse(e.data)));
    source.onopen = () => onStatus && onStatus(true);
    source.onerror = () => onStatus && onStatus(false);
    return source;
  },
  // Draw lumbar contact (0..1.2 shown) against the floor and the warning band.
  gauge(root, contact, floor, warningFloor) {
    const top = 1.2;
    const pct = (v) => `${Math.max(0, Math.min(v, top)) / top * 100}%`;
    const fill = root.querySelector("#gauge-fill");
    const floorLine = root.querySelector("#gauge-floor");
    const warning = root.querySelector("#gauge-warning");
    floorLine.style.bottom = pct(floor);
    warning.style.bottom = pct(floor);
    warning.style.height = `calc(${pct(warningFloor)} - ${pct(floor)})`;
    if (contact === null || contact === undefined) {
      fill.style.height = "0";
      root.dataset.zone = "none";
      return;
    }
    fill.style.height = pct(contact);
    root.dataset.zone = contact < floor ? "lifted" : contact < warningFloor ? "warning" : "ok";
  },
};
