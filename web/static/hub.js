// The hub: every mat on the broker, one card each, redrawn from /api/hub/live.
"use strict";
(() => {
  const WORDS = { empty: "Empty", waiting: "Waiting", calibrating: "Calibrating", resting: "Resting",
                  exercising: "Exercising", lifted: "LIFTED" };
  const SCALE = 1.2; // the bar's full width is 120 % contact
  const $ = (id) => document.getElementById(id);
  const cards = new Map();

  function card(id) {
    let el = cards.get(id);
    if (!el) {
      el = $("mat-card").content.firstElementChild.cloneNode(true);
      el.dataset.mat = id;
      el.querySelector(".mat-name").textContent = id;
      cards.set(id, el);
      const after = [...cards.keys()].sort().filter((k) => k > id)[0];
      $("mats").insertBefore(el, after ? cards.get(after) : null);
    }
    return el;
  }

  function since(t, now) {
    const s = Math.max(0, Math.round(now - t));
    return s < 90 ? `${s} s` : `${Math.round(s / 60)} min`;
  }

  function draw(mat, now) {
    const el = card(mat.id);
    const s = mat.state || {};
    const online = mat.online !== false;
    el.dataset.online = String(online);
    el.dataset.state = s.state || "unknown";
    el.dataset.zone = online && s.zone ? s.zone : "none";
    const status = el.querySelector(".mat-status");
    status.textContent = online ? (WORDS[s.state] || "–")
      : `Offline${mat.offline_since ? " · " + since(mat.offline_since, now) : ""}`;
    const contact = typeof s.contact === "number" ? s.contact : null;
    el.querySelector(".mat-bar-fill").style.width = `${contact === null ? 0 : Math.min(contact / SCALE, 1) * 100}%`;
    el.querySelector(".mat-bar-floor").style.left = `${((s.floor || 0.5) / SCALE) * 100}%`;
    el.querySelector(".mat-bar").setAttribute("aria-valuenow", contact === null ? "0" : String(Math.round(contact * 100)));
    el.querySelector(".contact-value").textContent = contact === null ? "–" : `${Math.round(contact * 100)} %`;
    el.querySelector(".reps").textContent = s.reps ?? 0;
    el.querySelector(".perfect").textContent = s.perfect_reps ?? 0;
    el.querySelector(".liftoffs").textContent = s.liftoffs ?? 0;
    el.querySelector(".set").textContent = s.set ?? 0;
    const list = el.querySelector(".mat-sessions");
    list.replaceChildren(...(mat.sessions || []).map((x) => {
      const li = document.createElement("li");
      const when = x.ended_at ? new Date(x.ended_at).toLocaleString([], { dateStyle: "short", timeStyle: "short" }) : "";
      li.textContent = `${x.perfect_reps ?? 0}/${x.reps ?? 0} perfect, ${x.liftoffs ?? 0} lift-offs `;
      const small = document.createElement("small");
      small.textContent = when;
      li.append(small);
      return li;
    }));
    if (!list.children.length) {
      const li = document.createElement("li");
      li.className = "note";
      li.textContent = "none yet";
      list.append(li);
    }
  }

  function show(room) {
    const broker = $("broker");
    broker.dataset.up = String(room.broker);
    broker.textContent = room.broker ? `${room.mats.length} mat${room.mats.length === 1 ? "" : "s"}` : "broker unreachable: retrying…";
    const seen = new Set(room.mats.map((m) => m.id));
    for (const [id, el] of cards) if (!seen.has(id)) { el.remove(); cards.delete(id); }
    room.mats.forEach((m) => draw(m, room.now));
    $("empty").hidden = room.mats.length > 0;
  }

  let last = null;
  const source = new EventSource("/api/hub/live");
  source.addEventListener("room", (e) => { last = JSON.parse(e.data); show(last); });
  // "Offline · 12 s" keeps counting between messages
  setInterval(() => { if (last) { last.now += 1; show(last); } }, 1000);
  source.onerror = () => { $("broker").dataset.up = "false"; $("broker").textContent = "hub unreachable: retrying…"; };
})();
