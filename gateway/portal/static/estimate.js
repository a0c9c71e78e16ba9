// Live totals for optional lines. The server sends each line's net and tax in minor
// units (already rounded per line), so adding integers here gives exactly the totals the
// server computes when the estimate is accepted.
(function () {
  "use strict";
  var card = document.getElementById("estimate");
  if (!card) { return; }
  var acceptForm = document.querySelector(".accept-form");
  // The page's own formatter wrote two sums in the reader's locale: one minor unit
  // ("£0.01", "¥1", "0,01 €") and 1234567 of the currency's major units. Symbol,
  // separators and decimals are read back from them, so a live total is written exactly
  // as the server writes one.
  function parts(text) {
    var first = text.search(/[0-9]/);
    var last = text.length - 1;
    while (last > first && !/[0-9]/.test(text.charAt(last))) { last--; }
    return { prefix: text.slice(0, first), body: text.slice(first, last + 1), suffix: text.slice(last + 1) };
  }
  var unit = parts(card.getAttribute("data-money-unit"));
  var large = parts(card.getAttribute("data-money-large"));
  var fraction = /[^0-9]([0-9]+)$/.exec(unit.body);
  var exponent = fraction ? fraction[1].length : 0;
  var decimalMark = exponent ? unit.body.charAt(unit.body.length - exponent - 1) : "";
  var groupMark = large.body.replace(/[0-9]/g, "").charAt(0);
  if (groupMark === decimalMark) { groupMark = ""; }  // a locale that does not group
  var prefix = unit.prefix, suffix = unit.suffix;

  function format(minor) {
    var digits = String(Math.abs(minor));
    while (digits.length <= exponent) { digits = "0" + digits; }
    var whole = exponent ? digits.slice(0, -exponent) : digits;
    var grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, groupMark);
    var number = grouped + (exponent ? decimalMark + digits.slice(-exponent) : "");
    return (minor < 0 ? "-" : "") + prefix + number + suffix;
  }

  function recompute() {
    var subtotal = 0, tax = 0;
    var rows = card.querySelectorAll("tr[data-line]");
    if (acceptForm) {
      acceptForm.querySelectorAll("input.included-line").forEach(function (el) { el.remove(); });
    }
    rows.forEach(function (row) {
      var box = row.querySelector("input.include-line");
      var included = row.getAttribute("data-optional") !== "true" || (box && box.checked);
      row.classList.toggle("excluded", !included);
      if (included) {
        subtotal += parseInt(row.getAttribute("data-net"), 10);
        tax += parseInt(row.getAttribute("data-tax"), 10);
        if (box && acceptForm) {
          var hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = "include"; hidden.value = box.value;
          hidden.className = "included-line";
          acceptForm.appendChild(hidden);
        }
      }
    });
    document.getElementById("subtotal").textContent = format(subtotal);
    document.getElementById("tax").textContent = format(tax);
    document.getElementById("total").textContent = format(subtotal + tax);
  }

  card.querySelectorAll("input.include-line").forEach(function (box) {
    box.addEventListener("change", recompute);
  });
})();
