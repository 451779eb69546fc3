// Progressive enhancement only: the page works fully without this file.
// Keeps the public counts current while the page stays open.
(function () {
  "use strict";
  var box = document.querySelector("[data-counts-url]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-counts-url");
  function refresh() {
    if (document.hidden) { return; }
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        ["individuals", "organisations"].forEach(function (name) {
          var node = box.querySelector('[data-count="' + name + '"]');
          if (node && typeof data[name] === "number") { node.textContent = String(data[name]); }
        });
      })
      .catch(function () {});
  }
  window.setInterval(refresh, 30000);
})();
