/* Award form helpers (the pages work without this file):
   - lists filter as you type in an input with data-filter="<list id>" (checked items stay visible);
   - a button with data-submit-once is disabled after its form is sent, against double taps
     (the server also issues each award only once). */
(function () {
  "use strict";

  function normalise(text) {
    return (text || "").toLocaleLowerCase().normalize("NFC").trim();
  }

  function filterList(input) {
    var list = document.getElementById(input.getAttribute("data-filter"));
    if (!list) { return; }
    var query = normalise(input.value);
    var items = list.querySelectorAll("li[data-name]");
    for (var i = 0; i < items.length; i += 1) {
      var item = items[i];
      var box = item.querySelector("input");
      var match = !query || normalise(item.getAttribute("data-name")).indexOf(query) !== -1;
      item.hidden = !(match || (box && box.checked));
    }
  }

  document.documentElement.classList.add("js");
  var inputs = document.querySelectorAll("input[data-filter]");
  for (var i = 0; i < inputs.length; i += 1) {
    inputs[i].addEventListener("input", function (event) { filterList(event.target); });
    inputs[i].addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }  // filtering is live; do not reload
    });
  }

  var buttons = document.querySelectorAll("button[data-submit-once]");
  for (var j = 0; j < buttons.length; j += 1) {
    (function (button) {
      var form = button.form;
      if (!form) { return; }
      form.addEventListener("submit", function () {
        window.setTimeout(function () {
          button.disabled = true;
          button.setAttribute("aria-disabled", "true");
        }, 0);
      });
    })(buttons[j]);
  }
})();
