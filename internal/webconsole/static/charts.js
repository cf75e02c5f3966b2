// Charts for the console's pages, drawn with the vendored uPlot. A chart
// spec is {id, title, unit, x: [unix seconds], names: [...], y: [[...]],
// levels: [{name, value}]}: each level of the policy is drawn as a dashed
// horizontal line, so a reviewer sees where the counts crossed it.
"use strict";
(function () {
  var colors = ["#1f6feb", "#8250df", "#2f855a", "#d97706", "#0e7490", "#be185d", "#4d7c0f", "#9a3412"];
  var levelColors = { warn: "#b7791f", limit: "#dd6b20", suspend: "#c53030", close: "#7b341e", quota: "#2f855a" };

  function data(spec) {
    var x = spec.x || [];
    var out = [x];
    (spec.y || []).forEach(function (ys) { out.push(ys || x.map(function () { return null; })); });
    (spec.levels || []).forEach(function (l) { out.push(x.map(function () { return l.value; })); });
    return out;
  }

  function series(spec) {
    var s = [{}];
    var cats = spec.categories;
    var n = (spec.names || []).length;
    (spec.names || []).forEach(function (name, i) {
      var one = { label: name, stroke: colors[i % colors.length], width: 2, points: { show: !cats && (spec.x || []).length < 60 } };
      if (cats) {
        // Bars side by side: the first left of its category, the second right.
        one.fill = colors[i % colors.length] + "aa";
        one.paths = uPlot.paths.bars({ size: [n > 1 ? 0.4 : 0.6, 64], align: n > 1 ? (i === 0 ? -1 : 1) : 0 });
      }
      s.push(one);
    });
    (spec.levels || []).forEach(function (l) {
      s.push({ label: l.name + " " + l.value, stroke: levelColors[l.name] || "#718096", width: 1, dash: [6, 4], points: { show: false } });
    });
    return s;
  }

  // draw makes the chart in el (sized to it) and returns it.
  function draw(el, spec, opts) {
    opts = opts || {};
    var width = Math.max(280, el.clientWidth - 8);
    var cats = spec.categories;
    // A time axis is padded by half a bucket each side, so one day's
    // bucket is a day wide rather than uPlot's guess at a range.
    var xScale = cats ? { time: false, range: function () { return [-0.6, Math.max(0, cats.length - 1) + 0.6]; } }
      : spec.step ? { time: true, range: function (u, min, max) { return [min - spec.step / 2, max + spec.step / 2]; } } : { time: true };
    var xAxis = cats ? { splits: function () { return cats.map(function (_, i) { return i; }); },
      values: function (u, splits) { return splits.map(function (i) { return cats[i] || ""; }); } } : {};
    var u = new uPlot({
      width: width,
      height: opts.height || 220,
      series: series(spec),
      scales: { x: xScale, y: { range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.1 : 1]; } } },
      axes: [xAxis, { label: spec.unit || "", size: 60 }],
      legend: { live: false },
    }, data(spec), el);
    u.spec = spec;
    return u;
  }

  // update replaces the chart's data (same series).
  function update(u, spec) {
    u.spec = spec;
    u.setData(data(spec));
  }

  window.Charts = { draw: draw, update: update };
})();
