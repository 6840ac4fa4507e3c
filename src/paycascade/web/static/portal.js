// paycascade portal: draws the Plotly figures described by JSON data blocks on the page and
// wires the print button and auto-submitting selects.  No inline script anywhere.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-figure]").forEach(function (el) {
    var spec = JSON.parse(document.getElementById(el.dataset.figure).textContent);
    if (window.Plotly) {
      window.Plotly.newPlot(el, spec.data, spec.layout, { displayModeBar: false, responsive: true })
        .then(function () { el.classList.add("drawn"); });
    }
  });
  var print = document.getElementById("print");
  if (print) { print.addEventListener("click", function () { window.print(); }); }
  document.querySelectorAll("select.autosubmit").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
});
