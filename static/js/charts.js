// Draws each <canvas data-chart="{...}"> with Chart.js once it is on the page (after
// the lazy htmx fragment lands). The table beside each chart is its text alternative.
(function () {
  function draw(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart]:not([data-drawn])").forEach(function (canvas) {
      canvas.setAttribute("data-drawn", "1");
      new window.Chart(canvas, JSON.parse(canvas.getAttribute("data-chart")));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
