// Sending a link from a phone: copy buttons (the Clipboard API, else the text is selected
// for the phone's own menu), the share sheet (Web Share API, where the phone has it), and
// the WhatsApp button following the message as it is edited, and a note to the server that
// the link was sent. Without JavaScript the buttons stay hidden and the message and link
// can be copied by hand (the link then counts as sent once the customer opens it).
(function () {
  "use strict";

  function status(text) {
    var box = document.querySelector(".copy-status");
    if (box) box.textContent = box.getAttribute(text) || "";
  }

  function select(field) {
    field.focus();
    field.select();
    if (field.setSelectionRange) field.setSelectionRange(0, field.value.length);
  }

  function copy(field) {
    var text = field.value;
    function fallback() {
      select(field);
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      status(copied ? "data-copied" : "data-select");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { status("data-copied"); }, fallback);
    } else {
      fallback();
    }
  }

  // WhatsApp, copy or share: the link is on its way. The server records it once, so the
  // response rate counts it among the links sent (a link never shared is not counted).
  function sent() {
    var card = document.querySelector("[data-sent-url]");
    var token = document.querySelector('meta[name="csrf-token"]');
    if (!card || !card.getAttribute("data-sent-url") || card.getAttribute("data-sent") === "1") return;
    card.setAttribute("data-sent", "1");
    fetch(card.getAttribute("data-sent-url"), {
      method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "X-CSRFToken": token ? token.getAttribute("content") : "" }
    }).catch(function () { card.removeAttribute("data-sent"); });
  }

  function start() {
    document.querySelectorAll("[data-sends]").forEach(function (button) {
      button.addEventListener("click", sent);
    });
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var field = document.querySelector(button.getAttribute("data-copy"));
      if (!field) return;
      button.hidden = false;
      button.addEventListener("click", function () { copy(field); });
    });
    if (navigator.share) {
      document.querySelectorAll("[data-share]").forEach(function (button) {
        var field = document.querySelector(button.getAttribute("data-share-text"));
        if (!field) return;
        button.hidden = false;
        button.addEventListener("click", function () {
          navigator.share({ text: field.value }).catch(function () { /* closed by the user */ });
        });
      });
    }
    var message = document.querySelector("[data-wa-base]");
    var whatsapp = document.getElementById("send-whatsapp");
    if (message && whatsapp && message.getAttribute("data-wa-base")) {
      message.addEventListener("input", function () {
        whatsapp.href = message.getAttribute("data-wa-base") + encodeURIComponent(message.value);
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
