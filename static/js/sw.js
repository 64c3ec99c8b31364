/* Fideliza's service worker (issue 21, point 2), written for this app: no framework.
 *
 * - The app shell (stylesheets, scripts, icons) is kept in SHELL and served from there.
 * - The agenda pages (/agenda, its days and its htmx fragments) go to the network first;
 *   each answer is kept in PAGES, so the last agenda the seller opened (today and the next
 *   7 days, with each client's phone, address and notes) is there when the signal is not.
 * - Everything else, above all the public feedback pages (/f/...), which are no-store,
 *   is passed to the network untouched and never kept.
 * - Log-out: the page after it (static/js/pwa.js) and Clear-Site-Data empty the caches. */
const VERSION = "v1";
const SHELL = "fideliza-shell-" + VERSION;
const PAGES = "fideliza-pages-" + VERSION;
const SHELL_FILES = [
  "/static/vendor/pico.min.css",
  "/static/css/app.css",
  "/static/vendor/htmx.min.js",
  "/static/js/errors.js",
  "/static/js/pwa.js",
  "/static/icons/icon-192.png",
  "/favicon.ico",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(
    names.filter((n) => n.startsWith("fideliza-") && n !== SHELL && n !== PAGES).map((n) => caches.delete(n))
  )).then(() => self.clients.claim()));
});

function isAgenda(url) {
  return url.pathname === "/agenda" || url.pathname.startsWith("/agenda/") && !url.pathname.startsWith("/agenda/calendar");
}

self.addEventListener("message", (event) => {
  if (event.data === "forget") {  // log-out: nothing kept survives it
    event.waitUntil(caches.keys().then((names) => Promise.all(names.map((n) => caches.delete(n)))));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/") || url.pathname === "/favicon.ico") {
    event.respondWith(caches.match(request, {ignoreSearch: false}).then((hit) => hit || fetch(request)));
    return;
  }
  if (!isAgenda(url)) return;  // the network, as if there were no worker (public pages included)
  event.respondWith(fetch(request).then((response) => {
    // only a real agenda page of a logged-in member: not a redirect to the log-in page
    if (response.ok && !response.redirected && response.type === "basic") {
      const copy = response.clone();
      caches.open(PAGES).then((cache) => cache.put(request, copy));
    }
    return response;
  }).catch(() => caches.match(request).then((hit) => hit || caches.match(url.pathname, {ignoreSearch: true})
    .then((page) => page || new Response("", {status: 503, statusText: "offline"})))));
});
