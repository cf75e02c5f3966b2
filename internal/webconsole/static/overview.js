// The overview, live: readings of the service's counters arrive as
// server-sent events (/overview/stream); rates are the differences
// between readings. The charts keep the last `keep` readings.
"use strict";
(function () {
  var keep = 300;
  var first = JSON.parse(document.getElementById("first-reading").textContent);
  var prev = first;
  var hist = { x: [], rate: [], backlog: [], oldest: [], decisions: {}, dead: {} };
  var charts = {};

  function text(id, s) { var el = document.getElementById(id); if (el) el.textContent = s; }

  function human(s) {
    if (!s) return "none";
    if (s < 60) return Math.floor(s) + "s";
    if (s < 3600) return Math.floor(s / 60) + "m";
    if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
    return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
  }

  function sum(m) { return Object.keys(m || {}).reduce(function (a, k) { return a + m[k]; }, 0); }

  function rows(id, list) {
    var body = document.querySelector("#" + id + " tbody");
    while (body.firstChild) body.removeChild(body.firstChild);
    list.forEach(function (cells) {
      var tr = document.createElement("tr");
      cells.forEach(function (c) {
        var td = document.createElement("td");
        td.textContent = c.text;
        if (c.cls) td.className = c.cls;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function push(arr, v) { arr.push(v); if (arr.length > keep) arr.shift(); }

  // series keeps one history per key (rule or reason), padded with zeros
  // for readings before the key appeared.
  function seriesOf(store, values, n) {
    Object.keys(values || {}).forEach(function (k) {
      if (!store[k]) store[k] = new Array(n - 1).fill(0);
    });
    Object.keys(store).forEach(function (k) {
      push(store[k], values && values[k] !== undefined ? values[k] : 0);
    });
  }

  function spec(id, unit, names, ys) { return { id: id, unit: unit, x: hist.x, names: names, y: ys, levels: [] }; }

  function chart(id, s) {
    var key = id + ":" + s.names.join(",");
    if (charts[id] && charts[id].key === key) {
      Charts.update(charts[id].u, s);
      return;
    }
    if (charts[id]) charts[id].u.destroy();
    var fig = document.getElementById("chart-" + id);
    charts[id] = { key: key, u: Charts.draw(fig, s, { height: 200 }) };
  }

  function show(r) {
    var dt = (r.at - prev.at) / 1000;
    var rate = dt > 0 ? Math.max(0, (r.events - prev.events) / dt) : 0;
    var perRule = {};
    Object.keys(r.decisions || {}).forEach(function (k) {
      perRule[k] = Math.max(0, r.decisions[k] - ((prev.decisions || {})[k] || 0));
    });
    push(hist.x, r.at / 1000);
    push(hist.rate, rate);
    push(hist.backlog, r.backlog);
    push(hist.oldest, r.oldest_open / 3600);
    seriesOf(hist.decisions, perRule, hist.x.length);
    seriesOf(hist.dead, r.dead_letters, hist.x.length);
    prev = r;

    text("events-rate", rate.toFixed(1));
    text("events-total", String(Math.round(r.events)));
    text("backlog", String(Math.round(r.backlog)));
    text("oldest-open", human(r.oldest_open));
    text("dead-total", String(Math.round(sum(r.dead_letters))));
    rows("dead-letters", Object.keys(r.dead_letters || {}).sort().map(function (k) {
      return [{ text: k }, { text: String(r.dead_letters[k]) }];
    }));
    rows("overturn", (r.overturn || []).map(function (o) {
      return [{ text: o.rule }, { text: o.policy }, { text: o.has_rate ? (o.rate * 100).toFixed(1) + "%" : "none decided" },
        { text: o.alert ? "ALERT" : "ok", cls: o.alert ? "alert-on" : "" }];
    }));

    chart("rate", spec("rate", "events/s", ["events/s"], [hist.rate]));
    var rules = Object.keys(hist.decisions).sort();
    chart("decisions", spec("decisions", "decisions", rules, rules.map(function (k) { return hist.decisions[k]; })));
    chart("backlog", spec("backlog", "appeals", ["open appeals", "oldest (hours)"], [hist.backlog, hist.oldest]));
    var reasons = Object.keys(hist.dead).sort();
    chart("dead", spec("dead", "dead letters", reasons, reasons.map(function (k) { return hist.dead[k]; })));
  }

  show(first);
  var live = document.getElementById("live");
  var es = new EventSource("/overview/stream");
  es.onopen = function () { live.textContent = "live"; live.dataset.state = "live"; };
  es.onmessage = function (e) { show(JSON.parse(e.data)); };
  es.addEventListener("failure", function (e) { live.textContent = "the service refused: " + JSON.parse(e.data); live.dataset.state = "failed"; });
  es.onerror = function () {
    // A closed stream (401: the session ended) is not retried by the
    // browser; anything else is.
    if (es.readyState === EventSource.CLOSED) {
      live.textContent = "stopped: reload the page (you may need to sign in again)";
      live.dataset.state = "closed";
    } else {
      live.textContent = "reconnecting…";
      live.dataset.state = "reconnecting";
    }
  };
})();
