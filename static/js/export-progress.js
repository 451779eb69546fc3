// Progressive enhancement only: without this file the export page shows the same state on
// every reload. With it, the page polls the export's progress endpoint until the list is
// done (then reveals the download link) or has failed.
(function () {
  "use strict";
  var box = document.querySelector("[data-export-progress]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-export-progress");
  var bar = box.querySelector("progress");
  var FINISHED = { done: true, failed: true, expired: true };
  var INTERVAL = 1500;
  var failures = 0;

  if (FINISHED[box.getAttribute("data-state")]) { return; }

  function setField(name, value) {
    var nodes = box.querySelectorAll('[data-field="' + name + '"]');
    for (var i = 0; i < nodes.length; i++) { nodes[i].textContent = String(value); }
  }

  function showState(state) {
    var blocks = box.querySelectorAll("[data-when]");
    for (var i = 0; i < blocks.length; i++) {
      var states = blocks[i].getAttribute("data-when").split(" ");
      blocks[i].hidden = states.indexOf(state) === -1;
    }
  }

  function update(data) {
    if (bar && typeof data.progress === "number") {
      bar.value = data.progress;
      bar.textContent = data.progress + "%";
    }
    setField("state_label", data.state_label || data.state);
    setField("rows_done", data.rows_done);
    setField("total_rows", data.total_rows);
    setField("progress", data.progress);
    setField("error", data.error || "");
    var link = box.querySelector('[data-field-href="download_url"]');
    if (link && data.download_url) { link.setAttribute("href", data.download_url); }
    box.setAttribute("data-state", data.state);
    showState(data.state);
  }

  function schedule(delay) { window.setTimeout(poll, delay || INTERVAL); }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { throw new Error("no progress"); }
        failures = 0;
        update(data);
        if (!FINISHED[data.state]) { schedule(); }
      })
      .catch(function () {
        // Back off while the server is unreachable; a reload still works.
        failures += 1;
        if (failures < 20) { schedule(Math.min(INTERVAL * Math.pow(2, failures), 30000)); }
      });
  }

  schedule();
})();
