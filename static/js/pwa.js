/* The installable app on the page (issue 21, point 2; the worker is static/js/sw.js).
 *
 * Logged in (data-member = the member's id): registers the service worker and asks it to
 * keep the agenda for offline reading; an outcome logged with no connection is kept on
 * the device (IndexedDB "fideliza-outbox") with a key made here, shown as pending, and
 * sent when the connection returns: once, with a fresh CSRF token (/csrf-token); the
 * server recognises the key if an answer was lost and the outcome is sent again.
 * Logged out (data-member empty: the log-in page after log-out): every cache the worker
 * kept is emptied, and outcomes already sent are forgotten. */
(function () {
  var script = document.currentScript;
  var data = script ? script.dataset : {};
  var member = data.member || "";
  var STATES = {pending: data.pending, sent: data.sent, conflict: data.conflict, rejected: data.rejected};
  var OUTCOME = 'form[action$="/outcome"]';

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("fideliza-outbox", 1);
      request.onupgradeneeded = function () { request.result.createObjectStore("outcomes", {keyPath: "key"}); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function store(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("outcomes", mode);
        var request = work(tx.objectStore("outcomes"));
        tx.oncomplete = function () { db.close(); resolve(request && request.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("")
      .replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
  }

  // the state in words next to the contact (visible, styled by its class), and read out by
  // the page's live region (base.html's #outbox-announce, there from the page's start so a
  // screen reader hears each change); a state found again on load is shown, not read out
  function show(action, state, quiet) {
    var form = document.querySelector('form[action="' + action + '"]');
    if (!form || !STATES[state]) return;
    var note = form.parentNode.querySelector('[data-testid="outbox-state"]');
    if (!note) {
      note = document.createElement("p");
      note.setAttribute("data-testid", "outbox-state");
      form.parentNode.insertBefore(note, form);
    }
    note.className = "outbox-state outbox-" + state;
    note.setAttribute("data-state", state);
    note.textContent = STATES[state];
    if (state !== "rejected") form.hidden = true;
    var voice = document.getElementById("outbox-announce");
    if (voice && !quiet) {
      voice.textContent = "";
      setTimeout(function () { voice.textContent = STATES[state]; }, 50);
    }
  }

  function keep(form) {
    var fields = [];
    new FormData(form).forEach(function (value, name) { if (name !== "csrf_token") fields.push([name, String(value)]); });
    var item = {key: form.querySelector('input[name="outcome_key"]').value, action: form.getAttribute("action"),
                fields: fields, member: member, state: "pending", at: Date.now()};
    return store("readwrite", function (s) { return s.put(item); }).then(function () { show(item.action, "pending"); });
  }

  var flushing = false;
  function flush() {
    if (!member || flushing || !navigator.onLine) return;
    flushing = true;
    store("readonly", function (s) { return s.getAll(); }).then(function (items) {
      var mine = (items || []).filter(function (i) { return i.member === member && i.state === "pending"; });
      if (!mine.length) return;
      return fetch("/csrf-token", {credentials: "same-origin", cache: "no-store"})
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (answer) {
          return mine.reduce(function (done, item) { return done.then(function () { return send(item, answer.token); }); },
                             Promise.resolve());
        });
    }).catch(function () {}).then(function () { flushing = false; });
  }

  function send(item, token) {
    var body = new URLSearchParams();
    body.append("csrf_token", token);
    item.fields.forEach(function (f) { body.append(f[0], f[1]); });
    return fetch(item.action, {method: "POST", body: body, credentials: "same-origin", cache: "no-store",
                               headers: {"HX-Request": "true"}}).then(function (r) {
      // recorded (or recognised as recorded): sent; someone else logged it first: conflict;
      // the form was refused (a past date...): rejected, the form shown again; anything else: kept
      var state = r.ok ? "sent" : r.status === 409 ? "conflict" : r.status === 422 ? "rejected" : null;
      if (!state) return;
      item.state = state;
      item.sent_at = Date.now();
      return store("readwrite", function (s) { return s.put(item); }).then(function () { show(item.action, state); });
    });
  }

  if (!member) {
    var forget = function () {
      if (window.caches) caches.keys().then(function (names) { return Promise.all(names.map(function (n) { return caches.delete(n); })); });
    };
    if ("serviceWorker" in navigator) {
      if (navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage("forget");
      navigator.serviceWorker.getRegistrations().then(function (all) {
        return Promise.all(all.map(function (r) { return r.unregister(); }));
      }).then(forget, forget);
    } else {
      forget();
    }
    if (window.indexedDB) {  // outcomes already sent are forgotten; one not yet sent waits for its member
      store("readwrite", function (s) {
        var cursor = s.openCursor();
        cursor.onsuccess = function () {
          var c = cursor.result;
          if (c) { if (c.value.state !== "pending") c.delete(); c.continue(); }
        };
        return cursor;
      }).catch(function () {});
    }
    return;
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", {scope: "/"}).then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) { if (registration.active) registration.active.postMessage("keep-agenda"); })
      .catch(function () {});
  }
  if (!window.indexedDB) return;

  // every outcome form gets its key before it leaves, online or not
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches(OUTCOME)) return;
    if (!form.querySelector('input[name="outcome_key"]')) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "outcome_key";
      input.value = newKey();
      form.appendChild(input);
    }
    if (navigator.onLine) return;  // htmx sends it as ever, key included
    event.preventDefault();
    event.stopImmediatePropagation();  // htmx's own listener on the form does not run
    keep(form);
  }, true);
  // online, but the request never got an answer: kept and sent again (the key makes it once)
  document.addEventListener("htmx:sendError", function (event) {
    var form = event.detail && event.detail.elt;
    if (form && form.matches && form.matches(OUTCOME) && form.querySelector('input[name="outcome_key"]')) keep(form);
  });
  window.addEventListener("online", flush);
  // "online" only says a network is there, and a phone may miss it: try again now and then
  setInterval(flush, 20000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) flush(); });
  document.addEventListener("DOMContentLoaded", function () {
    store("readonly", function (s) { return s.getAll(); }).then(function (items) {
      (items || []).forEach(function (i) { if (i.member === member) show(i.action, i.state, true); });
    }).catch(function () {});
    flush();
  });
})();
