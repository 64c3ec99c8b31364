// A rejected form gets a summary at its top: one link per field in error, and the focus
// moves to it, so a phone user whose error sits below the fold hears and sees it at once.
// Progressive enhancement: without this script the errors still show beside each field
// (templates/_macros/forms.html marks them aria-invalid with an "<id>-error" message).
(function () {
  "use strict";
  var script = document.currentScript;
  var title = (script && script.dataset.title) || "Please correct the following:";

  function labelOf(field) {
    var label = field.id && document.querySelector('label[for="' + CSS.escape(field.id) + '"]');
    label = label || field.closest("label");
    if (!label) return field.name || field.id;
    // the label's own words, not the field's value or its error message inside it
    var words = "";
    label.childNodes.forEach(function (n) { if (n.nodeType === 3) words += n.textContent; });
    return words.trim() || label.textContent.trim();
  }

  function summarise(form) {
    var invalid = form.querySelectorAll('[aria-invalid="true"]');
    var old = form.querySelector(":scope > .error-summary");
    if (old) old.remove();
    if (!invalid.length) return null;
    var box = document.createElement("div");
    box.className = "error-summary";
    box.setAttribute("role", "alert");
    box.tabIndex = -1;
    var heading = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = title;
    heading.appendChild(strong);
    box.appendChild(heading);
    var list = document.createElement("ul");
    invalid.forEach(function (field) {
      if (!field.id) return;
      var message = document.getElementById(field.id + "-error");
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + field.id;
      link.textContent = labelOf(field) + (message ? ": " + message.textContent.trim() : "");
      link.addEventListener("click", function (event) {
        event.preventDefault();
        field.focus();
        field.scrollIntoView({ block: "center" });
      });
      item.appendChild(link);
      list.appendChild(item);
    });
    if (!list.children.length) return null;
    box.appendChild(list);
    form.insertBefore(box, form.firstChild);
    return box;
  }

  function run(root) {
    var first = null;
    var forms = root.tagName === "FORM" ? [root] : root.querySelectorAll("form");
    forms.forEach(function (form) {
      var box = summarise(form);
      first = first || box;
    });
    if (first) {
      first.focus({ preventScroll: true });
      first.scrollIntoView({ block: "start" });
    }
  }

  document.addEventListener("DOMContentLoaded", function () { run(document); });
  // a form sent by htmx comes back with its errors in the swapped part
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.isConnected) run(target.closest("form") || target);
  });
})();
