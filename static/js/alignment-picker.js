/* Alignment picker: search the imported frameworks and add a requirement, unit or
 * osaamismerkki code to the alignment codes field. Without this file the admin types the
 * codes; the field stays the single source of what is saved. */
(function () {
  "use strict";

  var box = document.querySelector("[data-alignment-picker]");
  if (!box || !window.fetch) {
    return;
  }
  var textarea = box.querySelector("textarea");
  var searchUrl = box.getAttribute("data-search-url");
  if (!textarea || !searchUrl) {
    return;
  }
  function label(name) {
    return box.getAttribute("data-label-" + name) || "";
  }

  var wrapper = document.createElement("div");
  wrapper.className = "alignment-picker";
  var searchId = textarea.id + "-search";
  var field = document.createElement("div");
  field.className = "field";
  var searchLabel = document.createElement("label");
  searchLabel.setAttribute("for", searchId);
  searchLabel.textContent = label("search");
  var input = document.createElement("input");
  input.type = "search";
  input.id = searchId;
  input.autocomplete = "off";
  input.setAttribute("aria-describedby", searchId + "-status");
  field.appendChild(searchLabel);
  field.appendChild(input);
  var status = document.createElement("p");
  status.id = searchId + "-status";
  status.className = "hint";
  status.setAttribute("role", "status");
  var list = document.createElement("ul");
  list.className = "alignment-results";
  wrapper.appendChild(field);
  wrapper.appendChild(status);
  wrapper.appendChild(list);
  box.appendChild(wrapper);

  var timer = null;
  var latest = 0;

  function codes() {
    return textarea.value.split(/[\s,;]+/).filter(function (code) { return code; });
  }

  function add(code) {
    var current = codes();
    if (current.indexOf(code) === -1) {
      current.push(code);
      textarea.value = current.join("\n");
    }
    status.textContent = label("added").replace("%(code)s", code);
  }

  function show(results) {
    list.textContent = "";
    if (!results.length) {
      status.textContent = label("none");
      return;
    }
    status.textContent = "";
    results.forEach(function (hit) {
      var code = hit.key || hit.code || hit.targetCode;
      if (!code) {
        return;
      }
      var item = document.createElement("li");
      var text = document.createElement("span");
      text.className = "alignment-result-text";
      text.lang = "fi";
      text.textContent = (hit.text || hit.name || "") + (hit.qualification_name ? " – " + hit.qualification_name : "");
      var codeText = document.createElement("code");
      codeText.textContent = code;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button-small button-secondary";
      button.textContent = label("add");
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = " " + code;
      button.appendChild(hidden);
      button.addEventListener("click", function () { add(code); });
      item.appendChild(text);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(codeText);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function search() {
    var query = input.value.trim();
    if (query.length < 2) {
      list.textContent = "";
      status.textContent = "";
      return;
    }
    var ticket = ++latest;
    fetch(searchUrl + "?q=" + encodeURIComponent(query), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      return response.json();
    }).then(function (body) {
      if (ticket === latest) {
        show(Array.isArray(body) ? body : (body.results || []));
      }
    }).catch(function () {
      if (ticket === latest) {
        list.textContent = "";
        status.textContent = label("failed");
      }
    });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, 300);
  });
  // Enter in the search box searches; it must not submit the badge form.
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      window.clearTimeout(timer);
      search();
    }
  });
})();
