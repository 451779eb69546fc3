// Progressive enhancement only: the page works fully without this file.
(function () {
  "use strict";

  // The language links go to the same page in another language. Choosing one also remembers
  // it, so that the addresses without a language (`/`, old links) open in it next time: the
  // pages themselves set no cookie, as they are the same for every visitor.
  var switcher = document.querySelector("[data-language-cookie]");
  if (switcher) {
    var cookie = switcher.getAttribute("data-language-cookie");
    switcher.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[data-language]") : null;
      if (!link || !cookie) { return; }
      document.cookie = cookie + "=" + encodeURIComponent(link.getAttribute("data-language")) +
        "; path=/; max-age=31536000; samesite=lax" +
        (window.location.protocol === "https:" ? "; secure" : "");
    });
  }

  // Keeps the public counts current while the page stays open.
  var box = document.querySelector("[data-counts-url]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-counts-url");
  function refresh() {
    if (document.hidden) { return; }
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        data.total = data.individuals + data.organisations;
        ["individuals", "organisations", "total"].forEach(function (name) {
          if (typeof data[name] !== "number") { return; }
          var nodes = document.querySelectorAll('[data-count="' + name + '"]');
          Array.prototype.forEach.call(nodes, function (node) {
            node.textContent = String(data[name]);
          });
        });
      })
      .catch(function () {});
  }
  window.setInterval(refresh, 30000);
})();
