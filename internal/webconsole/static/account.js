// The account page: its charts, drawn from the JSON the server rendered
// in #chart-data (bucketed there from the account's events), and "/" to
// open another account.
"use strict";
(function () {
  var el = document.getElementById("chart-data");
  var charts = el ? JSON.parse(el.textContent) : [];
  window.accountCharts = {};
  charts.forEach(function (spec) {
    var fig = document.getElementById("chart-" + spec.id);
    if (!fig || !spec.x || spec.x.length === 0) return;
    window.accountCharts[spec.id] = Charts.draw(fig, spec);
  });
  Console.keys({
    "/": function () { var f = document.getElementById("find"); if (f) f.focus(); },
  });
})();
