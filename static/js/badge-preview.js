/* Live preview of the badge editor: the card follows the name, description, alt text and
 * colour as the admin types. The page works without this file (the Preview button renders
 * the same card on the server). No frameworks, no inline code (CSP: script-src 'self'). */
(function () {
  "use strict";

  var card = document.querySelector("[data-badge-preview]");
  if (!card) {
    return;
  }
  var nameInput = document.getElementById(card.getAttribute("data-name-field"));
  var descriptionInput = document.getElementById(card.getAttribute("data-description-field"));
  var altInput = document.getElementById(card.getAttribute("data-alt-field"));
  var image = card.querySelector("[data-preview-image]");
  var title = card.querySelector("[data-preview-name]");
  var description = card.querySelector("[data-preview-description]");
  var baseUrl = card.getAttribute("data-preview-url");
  var placeholder = card.getAttribute("data-placeholder") || "";
  // "upload": an uploaded image is what will be saved, so the preview keeps it.
  // "current": while editing, the current image stays until a colour is chosen.
  var fixedImage = card.getAttribute("data-fixed-image") || "";
  var timer = null;

  function chosenColour() {
    var checked = document.querySelector('input[name="colour"]:checked');
    return checked ? checked.value : "";
  }

  function refreshImage() {
    var colour = chosenColour();
    if (fixedImage === "upload" || (fixedImage === "current" && !colour)) {
      return;
    }
    var name = nameInput ? nameInput.value.slice(0, 200) : "";
    image.src = baseUrl + "?name=" + encodeURIComponent(name) + "&colour=" + encodeURIComponent(colour);
  }

  function update() {
    if (title && nameInput) {
      title.textContent = nameInput.value.trim() || placeholder;
    }
    if (description && descriptionInput) {
      description.textContent = descriptionInput.value.trim();
    }
    if (image && altInput) {
      image.alt = altInput.value.trim();
    }
    // Wait until typing pauses: one image request instead of one per key press.
    window.clearTimeout(timer);
    timer = window.setTimeout(refreshImage, 350);
  }

  [nameInput, descriptionInput, altInput].forEach(function (input) {
    if (input) {
      input.addEventListener("input", update);
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll('input[name="colour"]'), function (radio) {
    radio.addEventListener("change", function () {
      window.clearTimeout(timer);
      refreshImage();
    });
  });
})();
