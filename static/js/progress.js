/* Keep a job's progress bar up to date by polling its JSON; reload the page when the job starts
   or ends (the page then shows its state and outcome). Screen readers hear the count through a
   live region in steps of a tenth of the job, not at every poll.
   Without JavaScript the page refreshes itself (<noscript> meta refresh) or has a reload link. */
(function () {
  "use strict";

  var box = document.querySelector("[data-progress-url]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-progress-url");
  var shownStatus = box.getAttribute("data-progress-status");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  var announce = box.querySelector("[data-progress-announce]");
  var lastStep = null;
  var delay = 1000;

  function tell(state) {
    var step = state.total ? Math.floor(state.done * 10 / state.total) : 0;
    if (announce && lastStep !== null && step !== lastStep) { announce.textContent = state.text; }
    lastStep = step;
  }

  function poll() {
    window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (state) {
        if (bar) {
          bar.max = state.total || 1;
          bar.value = state.done;
        }
        if (text) { text.textContent = state.text; }
        tell(state);
        if (state.finished || (shownStatus && state.status !== shownStatus)) {
          window.location.reload();
          return;
        }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 30000);  // back off while the server is unreachable
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
