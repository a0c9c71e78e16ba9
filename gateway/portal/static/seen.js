// A link's page counts as viewed once a person can see it. Mail scanners and link
// previews fetch the page too, but they run no script or never show it, so the bare
// fetch counts nothing; this tells the portal, once per page shown, that the page is
// on a screen — now, or when a tab opened in the background is first brought forward.
(function () {
  "use strict";
  var form = document.getElementById("seen");
  if (!form) { return; }
  var sent = false;

  function report() {
    if (sent || document.visibilityState !== "visible") { return; }
    sent = true;
    var body = new FormData(form);
    if (navigator.sendBeacon && navigator.sendBeacon(form.action, body)) { return; }
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin", keepalive: true });
  }

  document.addEventListener("visibilitychange", report);
  report();
})();
