/* The table view after an htmx update: keep the keyboard where it was. A sort link gets focus
   back on the same column's new link; paging and filtering move focus to the result count,
   which screen readers announce. */
(function () {
  "use strict";
  var lastSort = null;
  var fromPager = false;
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail.elt;
    lastSort = source && source.getAttribute ? source.getAttribute("data-sort-key") : null;
    fromPager = !!(source && source.hasAttribute && source.hasAttribute("data-pager"));
  });
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.target || event.detail.target.id !== "table-results") { return; }
    var results = document.getElementById("table-results");
    if (!results) { return; }
    var target = lastSort ? results.querySelector('[data-sort-key="' + lastSort + '"]') : null;
    if (!target && fromPager) { target = document.getElementById("table-status"); }
    if (target) { target.focus(); }
    lastSort = null;
    fromPager = false;
  });
})();
