/* Fideliza's service worker (issue 21, point 2), written for this app: no framework.
 *
 * - The app shell (stylesheets, scripts, icons): kept in SHELL when the worker is
 *   installed; network first, served from SHELL when there is no connection.
 * - The agenda (/agenda: today, overdue and the next 7 days, with each client's phone,
 *   address and notes): network first, each full page kept in PAGES, so the last agenda
 *   the seller had is readable on a visit with no signal. The page asks for it to be
 *   kept as soon as the worker runs ("keep-agenda"), before the seller opens it.
 * - The offline page (/offline, in the member's language): kept with the agenda and shown
 *   for any other page of the app opened with no connection (it says what still works).
 * - Everything else, above all the public pages (/f/ feedback, /r/ referral, /w/ wall),
 *   which are no-store, goes to the network untouched and is never kept nor replaced.
 * - Log-out: Clear-Site-Data, and the logged-out page (static/js/pwa.js) unregisters this
 *   worker and empties the caches; the next log-in installs it again. */
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
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).catch(() => {})
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(
    names.filter((n) => n.startsWith("fideliza-") && n !== SHELL && n !== PAGES).map((n) => caches.delete(n))
  )).then(() => self.clients.claim()));
});

function isAgenda(url) {
  return url.pathname === "/agenda" && !url.search;
}

const OFFLINE = "/offline";
const PUBLIC = /^\/(f|r|w)(\/|$)/;

function keepPage(request, response) {
  // a full agenda (or offline) page of a logged-in member; not a redirect to log-in, not an htmx fragment
  if (response.ok && !response.redirected && response.type === "basic" && !request.headers.get("HX-Request")) {
    const copy = response.clone();
    return caches.open(PAGES).then((cache) => cache.put(new URL(request.url).pathname, copy)).then(() => response);
  }
  return Promise.resolve(response);
}

self.addEventListener("message", (event) => {
  if (event.data === "forget") {  // log-out: nothing kept survives it
    event.waitUntil(caches.keys().then((names) => Promise.all(names.map((n) => caches.delete(n)))));
  } else if (event.data === "keep-agenda") {  // a member's page: also the shell, if log-out emptied it
    event.waitUntil(caches.has(SHELL).then((has) => has || caches.open(SHELL).then((c) => c.addAll(SHELL_FILES)))
      .catch(() => {}));
    for (const path of ["/agenda", OFFLINE]) {
      const request = new Request(path, {credentials: "same-origin"});
      event.waitUntil(fetch(request).then((response) => keepPage(request, response)).catch(() => {}));
    }
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/") || url.pathname === "/favicon.ico") {
    // kept at install only: a page seen logged out (after log-out) must not fill a cache again
    event.respondWith(fetch(request).catch(() => caches.match(url.pathname).then((hit) => hit || Response.error())));
    return;
  }
  if (PUBLIC.test(url.pathname) || request.headers.get("HX-Request")) return;  // the network, untouched
  if (isAgenda(url)) {
    event.respondWith(fetch(request).then((response) => keepPage(request, response))
      .catch(() => caches.match(url.pathname).then((hit) => hit || caches.match(OFFLINE))
        .then((hit) => hit || Response.error())));
    return;
  }
  if (request.mode !== "navigate") return;  // the network, as if there were no worker
  // another page of the app: the network; with no connection, the kept offline page
  event.respondWith(fetch(request).catch(() => caches.match(OFFLINE).then((hit) => hit || Response.error())));
});
