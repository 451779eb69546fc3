// Progressive enhancement of the sign form; without this file everything still works.
(function () {
  "use strict";

  // A live count of the characters left in a field with a limit. The limit is said beside
  // the field from the start; the browser does not cut the text (no maxlength), so nothing
  // typed or pasted disappears unseen: the count says how much to shorten, and the server
  // refuses a text that is too long with a field error, the text kept. Screen readers hear
  // the count once typing pauses, not at every key.
  Array.prototype.forEach.call(document.querySelectorAll("[data-counter-for]"), function (counter) {
    var field = document.getElementById(counter.getAttribute("data-counter-for"));
    var limit = parseInt(counter.getAttribute("data-limit"), 10);
    if (!field || !limit) { return; }
    var left = counter.getAttribute("data-left");
    var over = counter.getAttribute("data-over");
    var spoken = document.createElement("p");
    spoken.className = "visually-hidden";
    spoken.setAttribute("aria-live", "polite");
    counter.parentNode.insertBefore(spoken, counter.nextSibling);
    var pause = null;
    function update() {
      var used = Array.from(field.value).length;
      var tooMany = used > limit;
      counter.textContent = (tooMany ? over : left)
        .replace("%(count)s", String(Math.abs(limit - used)));
      counter.classList.toggle("over", tooMany);
    }
    counter.hidden = false;
    field.addEventListener("input", function () {
      update();
      window.clearTimeout(pause);
      pause = window.setTimeout(function () { spoken.textContent = counter.textContent; }, 1000);
    });
    update();
  });

  // A submit that went wrong comes back at the form (its address ends in #sign-problem):
  // the summary of what to correct takes the focus, and each of its links the field's.
  var problem = document.getElementById("sign-problem");
  if (problem) {
    problem.focus();
    problem.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
      var field = link ? document.getElementById(link.getAttribute("href").slice(1)) : null;
      if (!field) { return; }
      event.preventDefault();
      field.focus();
      field.scrollIntoView({ block: "center" });
    });
  }

  // The statement page is the same for everyone (shared caches keep one copy), so it cannot
  // know that this browser has signed. Confirming a signature sets a cookie naming the
  // statement, whose value lists the kinds signed (statements/views.py); here it swaps the
  // calls to sign for a thank-you and the links to share the statement. The form stays one
  // button away.
  var signed = document.querySelector("[data-signed-cookie]");
  if (!signed) { return; }
  var name = signed.getAttribute("data-signed-cookie");
  var kinds = null;
  document.cookie.split(";").forEach(function (part) {
    part = part.trim();
    if (part.indexOf(name + "=") === 0) { kinds = part.slice(name.length + 1).split("."); }
  });
  if (!kinds) { return; }
  // A link that asks for the form of a kind not signed yet ("?as=organisation" after
  // signing as oneself) gets that form.
  var asked = new URLSearchParams(window.location.search).get("as");
  if (asked && kinds.indexOf(asked) < 0) { return; }
  function show(signedView) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-unsigned]"), function (node) {
      node.hidden = signedView;
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-signed]"), function (node) {
      node.hidden = !signedView;
    });
  }
  // A form that came back with a problem is being filled in: it stays.
  if (problem) { return; }
  show(true);
  var again = document.querySelector("[data-sign-again]");
  if (again) {
    again.addEventListener("click", function () {
      show(false);
      var form = signed.querySelector("form");
      var first = form ? form.querySelector("input:not([type=hidden]), select, textarea") : null;
      if (first) { first.focus(); }
    });
  }
})();
