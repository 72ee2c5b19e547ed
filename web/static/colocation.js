// Co-location request form: show only the technical inputs of the chosen
// purpose. Without this script every group shows and the server reads the
// chosen one.
(function () {
  "use strict";
  var purpose = document.getElementById("purpose");
  if (!purpose) {
    return;
  }
  var groups = document.querySelectorAll("fieldset.colo-purpose");
  function sync() {
    for (var i = 0; i < groups.length; i++) {
      groups[i].hidden = groups[i].getAttribute("data-purpose") !== purpose.value;
    }
  }
  purpose.addEventListener("change", sync);
  sync();
})();
