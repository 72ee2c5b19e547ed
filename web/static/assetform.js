// Asset form: show only the fields that apply to the chosen kind. Without
// JavaScript every field shows, with its hint saying where it applies.
(function () {
  "use strict";
  var kind = document.getElementById("af-kind");
  if (!kind) { return; }
  function current() { return kind.dataset.kind || kind.value; }
  function apply() {
    var k = current();
    document.querySelectorAll("[data-kinds]").forEach(function (el) {
      el.hidden = el.dataset.kinds.split(" ").indexOf(k) < 0;
    });
  }
  kind.addEventListener("change", apply);
  apply();
})();
