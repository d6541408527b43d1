// Each person's colour, from data-colour (the page's Content-Security-Policy forbids inline styles).
"use strict";
document.querySelectorAll("[data-colour]").forEach((el) => el.style.setProperty("--person", el.dataset.colour));
