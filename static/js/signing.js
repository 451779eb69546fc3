// Progressive enhancement of the sign form; without this file everything still works.
(function () {
  "use strict";

  // A live count of the characters left in a field with a limit. The limit is said beside
  // the field from the start; the browser does not cut the text (no maxlength), so nothing
  // typed or pasted disappears unseen: the count says how much to shorten, and the server
  // refuses a text that is too long with a field error, the text kept.
  Array.prototype.forEach.call(document.querySelectorAll("[data-counter-for]"), function (counter) {
    var field = document.getElementById(counter.getAttribute("data-counter-for"));
    var limit = parseInt(counter.getAttribute("data-limit"), 10);
    if (!field || !limit) { return; }
    var left = counter.getAttribute("data-left");
    var over = counter.getAttribute("data-over");
    function update() {
      var used = Array.from(field.value).length;
      var tooMany = used > limit;
      counter.textContent = (tooMany ? over : left)
        .replace("%(count)s", String(Math.abs(limit - used)));
      counter.classList.toggle("over", tooMany);
    }
    counter.hidden = false;
    field.addEventListener("input", update);
    update();
  });

  // The statement page is the same for everyone (shared caches keep one copy), so it cannot
  // know that this browser has signed. Confirming a signature sets a cookie naming the
  // statement (see statements/views.py); here it swaps the call to sign for a thank-you
  // and the links to share the statement.
  var signed = document.querySelector("[data-signed-cookie]");
  if (!signed) { return; }
  var name = signed.getAttribute("data-signed-cookie");
  var has = document.cookie.split(";").some(function (part) {
    return part.trim().indexOf(name + "=") === 0;
  });
  if (!has) { return; }
  Array.prototype.forEach.call(document.querySelectorAll("[data-unsigned]"), function (node) {
    node.hidden = true;
  });
  signed.hidden = false;
})();
