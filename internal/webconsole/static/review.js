// The flagged-accounts queue's keys: j/k move, l opens the note of the
// selected account's lift form. The forms are the server's; this script
// only selects and focuses them.
"use strict";
(function () {
  var table = document.getElementById("flagged");
  if (!table) return;
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-id]"));

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

  document.querySelectorAll("form.lift textarea").forEach(function (t) {
    t.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        t.form.requestSubmit();
      }
    });
  });

  Console.keys({
    j: function () { select(selectedIndex() + 1); },
    k: function () { select(Math.max(0, selectedIndex() - 1)); },
    l: function () {
      var i = selectedIndex();
      var d = i < 0 ? null : document.getElementById("detail-" + rows[i].dataset.id);
      var note = d && d.querySelector("form.lift textarea[name=note]");
      // After the key is up, so its own character is not typed.
      if (note) document.addEventListener("keyup", function () { note.focus(); }, { once: true });
    },
  });
})();
