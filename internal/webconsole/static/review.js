// The flagged-accounts queue's keys: j/k move, l opens the note of the
// selected account's lift form. The forms are the server's; this script
// only selects and focuses them.
"use strict";
(function () {
  var table = document.getElementById("flagged");
  if (!table) return;
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-id]"));

  var selection = Console.rows(rows);
  var selectedIndex = selection.selectedIndex;
  var select = selection.select;

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
