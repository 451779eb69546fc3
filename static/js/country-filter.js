// Progressive enhancement only: without this file the countries are a scrollable list of
// checkboxes that works with a mouse, a keyboard and the browser's own search. With it, a
// search box above the list shows only the countries whose names match what is typed, and
// the countries already ticked are named under it, so none is forgotten out of sight.
(function () {
  "use strict";
  var list = document.querySelector("[data-country-filter]");
  if (!list) { return; }
  var fieldset = list.closest("fieldset");
  // The words, in the page's language, come with the list.
  var texts = {
    label: list.getAttribute("data-label-search"),
    shown: list.getAttribute("data-label-shown"),
    chosen: list.getAttribute("data-label-chosen"),
    none: list.getAttribute("data-label-none")
  };
  var choices = Array.prototype.slice.call(list.querySelectorAll(".country-choice"));

  function fold(text) {
    // Case and accents do not matter: "peru" finds "Perú", "cote" finds "Côte d'Ivoire".
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  var keys = choices.map(function (choice) { return fold(choice.textContent.trim()); });

  var wrap = document.createElement("div");
  wrap.className = "country-search";
  var label = document.createElement("label");
  label.setAttribute("for", "country-search");
  label.textContent = texts.label;
  var input = document.createElement("input");
  input.type = "search";
  input.id = "country-search";
  input.autocomplete = "off";
  input.setAttribute("aria-controls", list.id || "");
  var status = document.createElement("p");
  status.className = "helptext";
  status.setAttribute("role", "status");
  var chosen = document.createElement("p");
  chosen.className = "country-chosen";
  chosen.setAttribute("aria-live", "polite");
  wrap.appendChild(label);
  wrap.appendChild(input);
  wrap.appendChild(status);
  list.parentNode.insertBefore(wrap, list);
  list.parentNode.insertBefore(chosen, list.nextSibling);

  function filter() {
    var query = fold(input.value.trim());
    var shown = 0;
    choices.forEach(function (choice, i) {
      var match = !query || keys[i].indexOf(query) !== -1;
      choice.hidden = !match;
      if (match) { shown += 1; }
    });
    status.textContent = query ? texts.shown.replace("{count}", String(shown)) : "";
  }

  function summarise() {
    var names = choices.filter(function (choice) {
      return choice.querySelector("input").checked;
    }).map(function (choice) { return choice.textContent.trim(); });
    chosen.textContent = names.length ? texts.chosen + " " + names.join(", ") : texts.none;
  }

  input.addEventListener("input", filter);
  // Enter in the search box must not send the whole form.
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); }
  });
  list.addEventListener("change", summarise);
  if (fieldset) { fieldset.classList.add("enhanced"); }
  summarise();
})();
