// People: deleting a profile deletes its sessions too, so it asks first.
"use strict";
document.querySelectorAll("form.delete-profile").forEach((form) =>
  form.addEventListener("submit", (e) => {
    if (!confirm("Delete this profile and all its sessions for good?")) e.preventDefault();
  }));
