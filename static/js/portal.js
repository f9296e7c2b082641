/* Small behaviours shared by every page. No framework: Bootstrap and htmx do the rest. */
(function () {
  "use strict";

  // A failed htmx request (server error, network down) says so where its result would appear,
  // instead of failing silently. Polling requests keep polling and replace the notice when they
  // succeed again.
  document.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail;
    if (detail.successful || !detail.target) return;
    var target = detail.target;
    var body = document.body.dataset;
    var status = detail.xhr ? detail.xhr.status : 0;
    // A polled element whose resource is gone or forbidden (e.g. the organisation was switched in
    // another tab) stops polling: htmx stops once the element leaves the page.
    var polling = (detail.elt && detail.elt.getAttribute("hx-trigger") || "").indexOf("every") === 0;
    if (polling && (status === 403 || status === 404 || status === 410)) {
      var gone = document.createElement("div");
      gone.className = "alert alert-secondary";
      gone.setAttribute("role", "status");
      gone.textContent = body.msgGone;
      detail.elt.replaceWith(gone);
      return;
    }
    var notice = target.querySelector(":scope > .htmx-error-notice");
    if (!notice) {
      notice = document.createElement("div");
      notice.className = "alert alert-warning small mt-2 htmx-error-notice";
      notice.setAttribute("role", "alert");
      target.appendChild(notice);
    }
    // The texts come translated from the page (see base.html).
    notice.textContent = status ? body.msgServerError + " (" + status + ")" : body.msgOffline;
  });

  // Forms with data-confirm ask before submitting (e.g. revoking a key).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
})();
