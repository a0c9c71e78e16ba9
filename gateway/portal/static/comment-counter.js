// The comment form's counter of characters left: without a script the form says its
// limit and the textarea keeps to it; with one the line under it counts down.
(function () {
  "use strict";
  var box = document.getElementById("comment-body");
  var line = document.getElementById("comment-left");
  if (!box || !line) { return; }
  var limit = parseInt(box.getAttribute("maxlength"), 10);
  var words = box.getAttribute("data-left");
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
  function update() {
    line.textContent = words.replace("%(count)s", numbers.format(limit - box.value.length));
  }
  box.addEventListener("input", update);
  update();
}());
