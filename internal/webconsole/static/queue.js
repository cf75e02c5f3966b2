// The appeal queue's keys: j/k move, c claims (or renews), u/o/m choose the
// outcome and open the reply, r opens the reply, n submits and claims the
// next (or, with nothing to submit, claims the next). Everything is a form
// the server renders; this script only selects, fills and submits them.
"use strict";
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll("#appeals tbody tr[data-id]"));
  if (!document.getElementById("appeals")) return;

  var selection = Console.rows(rows);
  var selectedIndex = selection.selectedIndex;
  var select = selection.select;

  function detail() {
    var i = selectedIndex();
    return i < 0 ? null : document.getElementById("detail-" + rows[i].dataset.id);
  }

  function submit(form) {
    if (form) form.requestSubmit();
  }

  // focusAfterKey moves the focus once the key that asked for it is up,
  // so the key's own character is not typed into what gets the focus.
  function focusAfterKey(el) {
    document.addEventListener("keyup", function () { el.focus(); }, { once: true });
  }

  function reply() {
    var d = detail();
    var t = d && d.querySelector("form.decide textarea[name=reply]");
    if (t) focusAfterKey(t);
  }

  function choose(outcome) {
    var d = detail();
    var form = d && d.querySelector("form.decide");
    if (!form) return;
    form.querySelector("input[name=outcome][value=" + outcome + "]").checked = true;
    var t = form.querySelector("textarea[name=reply]");
    if (t.value.trim() === "") {
      var first = form.querySelector("select.canned option[data-outcome=" + outcome + "]");
      if (first) t.value = first.value;
    }
    focusAfterKey(t);
  }

  // A canned reply replaces the reply, to be edited.
  document.querySelectorAll("form.decide select.canned").forEach(function (s) {
    s.addEventListener("change", function () {
      if (!s.value) return;
      var form = s.form;
      var t = form.querySelector("textarea[name=reply]");
      t.value = s.value;
      var o = s.selectedOptions[0].dataset.outcome;
      var radio = form.querySelector("input[name=outcome][value=" + o + "]");
      if (radio) radio.checked = true;
      t.focus();
    });
  });

  // Ctrl+Enter in the reply submits it.
  document.querySelectorAll("form.decide textarea").forEach(function (t) {
    t.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        submit(t.form);
      }
    });
  });

  Console.keys({
    j: function () { select(selectedIndex() + 1); },
    k: function () { select(Math.max(0, selectedIndex() - 1)); },
    c: function () {
      var d = detail();
      submit(d && d.querySelector("form.claim"));
    },
    u: function () { choose("uphold"); },
    o: function () { choose("overturn"); },
    m: function () { choose("modify"); },
    r: function () { reply(); },
    n: function () {
      var d = detail();
      var form = d && d.querySelector("form.decide");
      submit(form || document.getElementById("next-form"));
    },
  });
})();
