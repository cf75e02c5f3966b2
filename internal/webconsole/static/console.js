// The console's shared script: the keyboard help (?), and countdowns of
// claim leases. Page scripts add their keys with Console.keys({...}).
// Nothing here writes HTML: text goes through textContent, so what the
// server escaped stays inert.
"use strict";
(function () {
  var handlers = {};

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function help(show) {
    var h = document.getElementById("help");
    if (h) h.hidden = !show;
  }

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      help(false);
      if (typing(document.activeElement)) document.activeElement.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (e.key === "?") {
      var h = document.getElementById("help");
      help(h && h.hidden);
      e.preventDefault();
      return;
    }
    var fn = handlers[e.key];
    if (fn) {
      e.preventDefault();
      fn(e);
    }
  });

  function human(s) {
    if (s <= 0) return "ended";
    if (s < 60) return Math.floor(s) + "s";
    if (s < 3600) return Math.floor(s / 60) + "m";
    if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
    return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
  }

  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll(".lease[data-until]").forEach(function (el) {
      el.textContent = human(Number(el.dataset.until) - now);
    });
  }
  setInterval(tick, 1000);

  window.Console = {
    keys: function (map) {
      Object.keys(map).forEach(function (k) { handlers[k] = map[k]; });
    },
    typing: typing,
    // rows makes a table's rows selectable one at a time (by click, or by
    // the page's j/k keys through select): the selected row's detail
    // (#detail-<id>) is shown and its id kept in the address (?sel=).
    rows: function (rows) {
      function selectedIndex() {
        for (var i = 0; i < rows.length; i++) {
          if (rows[i].classList.contains("selected")) return i;
        }
        return -1;
      }
      function select(i) {
        if (i < 0 || i >= rows.length) return;
        rows.forEach(function (r, j) {
          r.classList.toggle("selected", i === j);
          if (i === j) r.setAttribute("aria-selected", "true"); else r.removeAttribute("aria-selected");
          var d = document.getElementById("detail-" + r.dataset.id);
          if (d) d.hidden = i !== j;
        });
        rows[i].scrollIntoView({ block: "nearest" });
        var u = new URL(window.location.href);
        u.searchParams.set("sel", rows[i].dataset.id);
        history.replaceState(null, "", u.toString());
      }
      rows.forEach(function (r, i) {
        r.addEventListener("click", function (e) {
          if (e.target.tagName !== "A") select(i);
        });
      });
      return { selectedIndex: selectedIndex, select: select };
    },
  };
})();
