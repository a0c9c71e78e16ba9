// Live totals for optional lines. The server sends each line's net and tax in minor
// units (already rounded per line), so adding integers here gives exactly the totals the
// server computes when the estimate is accepted.
(function () {
  "use strict";
  var card = document.getElementById("estimate");
  if (!card) { return; }
  var currency = card.getAttribute("data-currency");
  var acceptForm = document.querySelector(".accept-form");
  var exponent = { JPY: 0, KRW: 0, ISK: 0, CLP: 0, VND: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3 }[currency];
  if (exponent === undefined) { exponent = 2; }

  function format(minor) {
    var negative = minor < 0;
    var digits = String(Math.abs(minor));
    while (digits.length <= exponent) { digits = "0" + digits; }
    var whole = exponent ? digits.slice(0, -exponent) : digits;
    var fraction = exponent ? "." + digits.slice(-exponent) : "";
    return currency + " " + (negative ? "-" : "") + whole + fraction;
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
