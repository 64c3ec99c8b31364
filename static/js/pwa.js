/* Installs the service worker for a logged-in member (static/js/sw.js) and, on a page
 * seen logged out (the log-in page after log-out), empties every cache it kept: nothing
 * of a seller's agenda stays on a shared phone. */
(function () {
  if (!("serviceWorker" in navigator)) return;
  var member = document.currentScript && document.currentScript.dataset.member === "1";
  if (member) {
    navigator.serviceWorker.register("/sw.js", {scope: "/"}).catch(function () {});
    return;
  }
  if (window.caches) {
    caches.keys().then(function (names) { return Promise.all(names.map(function (n) { return caches.delete(n); })); });
  }
  if (navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage("forget");
})();
