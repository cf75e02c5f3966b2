// The policy page: the backtest's chart, the directory picker, and the
// re-evaluation's apply, whose progress arrives as server-sent events on
// the POST's response (read with fetch: EventSource cannot POST or send
// the CSRF token).
"use strict";
(function () {
  var data = document.getElementById("backtest-chart");
  if (data) {
    var spec = JSON.parse(data.textContent);
    if (spec && spec.x && spec.x.length) window.backtestChart = Charts.draw(document.getElementById("chart-backtest"), spec);
  }

  var asDir = document.getElementById("as-dir");
  var upload = document.getElementById("upload");
  if (asDir && upload) {
    asDir.addEventListener("change", function () {
      if (asDir.checked) upload.setAttribute("webkitdirectory", ""); else upload.removeAttribute("webkitdirectory");
    });
  }

  var form = document.getElementById("apply-form");
  if (!form) return;
  var bar = document.getElementById("apply-progress");
  var status = document.getElementById("apply-status");

  function handle(event, payload) {
    if (event === "progress") {
      bar.max = Math.max(1, payload.total);
      bar.value = payload.done;
      status.textContent = "Restoring: " + payload.done + " of " + payload.total;
    } else if (event === "result") {
      bar.max = 1;
      bar.value = 1;
      status.textContent = "Done: " + (payload.restored || []).length + " restored of " + payload.considered +
        " looked at (audit batch " + payload.batch + ").";
      status.dataset.done = "1";
    } else if (event === "failure") {
      status.textContent = "Refused: " + payload;
      status.dataset.done = "failed";
    }
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = new FormData(form);
    var button = document.getElementById("apply");
    button.disabled = true;
    bar.hidden = false;
    status.textContent = "Starting…";
    fetch(form.action, { method: "POST", body: body, headers: { "X-CSRF-Token": body.get("csrf") }, credentials: "same-origin" })
      .then(function (resp) {
        if (!resp.ok) throw new Error("the console answered " + resp.status);
        var reader = resp.body.getReader();
        var decoder = new TextDecoder();
        var buf = "";
        function pump() {
          return reader.read().then(function (r) {
            if (r.done) return;
            buf += decoder.decode(r.value, { stream: true });
            var i;
            while ((i = buf.indexOf("\n\n")) >= 0) {
              var block = buf.slice(0, i);
              buf = buf.slice(i + 2);
              var event = "message", payload = "";
              block.split("\n").forEach(function (line) {
                if (line.indexOf("event: ") === 0) event = line.slice(7);
                else if (line.indexOf("data: ") === 0) payload += line.slice(6);
              });
              handle(event, JSON.parse(payload));
            }
            return pump();
          });
        }
        return pump();
      })
      .catch(function (err) { status.textContent = "Failed: " + err.message; status.dataset.done = "failed"; button.disabled = false; });
  });
})();
