// conform report: filter box, click-through from matrix cells to results, deviations opened
// when linked. The page is complete without this script.
(function () {
  "use strict";
  var filter = document.getElementById("filter");
  var selection = document.getElementById("selection");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#results-table tr.result, #results-table tr.detail"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("#results-table tbody"));
  var cellSel = null;

  function apply() {
    var words = (filter.value || "").toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (tr) {
      var ok = true;
      if (cellSel) {
        ok = tr.dataset.target === cellSel.target && tr.dataset.feature === cellSel.feature && tr.dataset.mode === cellSel.mode;
      }
      var text = tr.dataset.search || "";
      for (var i = 0; ok && i < words.length; i++) { ok = text.indexOf(words[i]) !== -1; }
      tr.classList.toggle("hidden", !ok);
      if (ok && tr.classList.contains("result")) { shown++; }
    });
    groups.forEach(function (tb) {
      var any = tb.querySelector("tr.result:not(.hidden)") !== null;
      var head = tb.querySelector("tr.group");
      if (head) { head.classList.toggle("hidden", !any); }
    });
    var what = cellSel ? cellSel.feature + " on " + cellSel.target + " (" + cellSel.mode + ")" : "all results";
    selection.textContent = shown + " shown: " + what + (words.length ? ", matching \u201c" + filter.value + "\u201d" : "");
    selection.dataset.count = String(shown);
  }

  function selectCell(td) {
    document.querySelectorAll("td.cell.selected").forEach(function (c) { c.classList.remove("selected"); });
    td.classList.add("selected");
    cellSel = { target: td.dataset.target, feature: td.dataset.feature, mode: td.dataset.mode };
    apply();
    document.getElementById("results").scrollIntoView();
  }

  document.querySelectorAll("td.cell[data-target]").forEach(function (td) {
    td.addEventListener("click", function (ev) { ev.preventDefault(); selectCell(td); });
  });
  filter.addEventListener("input", apply);
  document.getElementById("clear").addEventListener("click", function () {
    cellSel = null;
    filter.value = "";
    document.querySelectorAll("td.cell.selected").forEach(function (c) { c.classList.remove("selected"); });
    apply();
  });

  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    if (el && el.tagName === "DETAILS") { el.open = true; el.scrollIntoView(); }
  }
  window.addEventListener("hashchange", openTarget);
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  openTarget();
  apply();
})();
