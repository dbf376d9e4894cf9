// Keeps a draft of the form in this browser tab only (sessionStorage: gone when the tab
// closes, never sent anywhere), so a reload or a dropped connection loses nothing.
// The form works without it.
(function () {
  "use strict";
  var form = document.querySelector("form[data-draft-key]");
  if (!form || !window.sessionStorage) return;
  var key = "forbedring-draft:" + form.getAttribute("data-draft-key");
  var saved = {};
  try { saved = JSON.parse(sessionStorage.getItem(key) || "{}"); } catch (e) { saved = {}; }
  Object.keys(saved).forEach(function (name) {
    var checked = form.querySelector("input[type=radio][name='" + CSS.escape(name) + "']:checked");
    if (checked) return; // what the server sent back wins
    var input = form.querySelector(
      "input[type=radio][name='" + CSS.escape(name) + "'][value='" + CSS.escape(saved[name]) + "']");
    if (input) input.checked = true;
  });
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type !== "radio") return;
    saved[input.name] = input.value;
    sessionStorage.setItem(key, JSON.stringify(saved));
  });
  form.addEventListener("submit", function () { sessionStorage.removeItem(key); });
})();
