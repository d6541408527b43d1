// The ladder: accepting the rung the mat proposes, or the variant it suggests, through the API
// (PATCH /api/profiles/N). With a PIN set and this browser locked, the PIN unlocks it first
// (POST /api/unlock), as every change needs.
"use strict";
document.querySelectorAll("form.ladder-choice").forEach((form) => form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const result = document.getElementById("ladder-result");
  const say = async (response) => {
    const body = await response.json().catch(() => ({}));
    result.textContent = `Not changed: ${body.error || `the page answered ${response.status}`}.`;
    result.classList.add("bad");
  };
  const send = (method, url, body) => fetch(url, { method, headers: { "Content-Type": "application/json" },
                                                   body: JSON.stringify(body) });
  try {
    const pin = form.querySelector("input[name=pin]");
    if (pin) {
      const unlocked = await send("POST", "/api/unlock", { pin: pin.value });
      if (!unlocked.ok) return say(unlocked);
    }
    const { profile, variant } = form.dataset;
    const response = await send("PATCH", `/api/profiles/${profile}`, { settings: { variant } });
    if (!response.ok) return say(response);
    const here = new URL(window.location.href);
    here.searchParams.set("moved", variant);
    window.location.assign(here);
  } catch (error) {
    result.textContent = "The mat's page is not answering.";
    result.classList.add("bad");
  }
}));
