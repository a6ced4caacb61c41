/* The book's own scripts (loaded by book/_ext/ftbook.py).
 *
 * 1. Navigation toggles on narrow screens. pydata-sphinx-theme 0.17 and sphinx-book-theme 1.3 both bind
 *    their click handlers to the *first* ".primary-toggle" / ".secondary-toggle" of the page, which is the
 *    pydata header's button, hidden in the book theme's layout; the visible buttons (the book theme's
 *    article header) had no handler, so ☰ and "contents" did nothing on a phone. Every other toggle now
 *    forwards its click to the first one, whose handlers open the sidebar (a modal dialog below 992 px,
 *    the collapsible sidebar above).
 * 2. Figures written by ftlib.report.Report.figure: a click (or Enter) opens the image at full resolution
 *    in an overlay that scrolls; a click, Escape or the close button closes it.
 */
(function () {
  "use strict";

  function forwardToggles(selector) {
    const all = Array.from(document.querySelectorAll(selector));
    if (all.length < 2) return;
    const first = all[0];
    all.slice(1).forEach((btn) => {
      btn.addEventListener("click", (ev) => {
        ev.preventDefault();
        ev.stopImmediatePropagation();
        first.click();
      }, true);
    });
  }

  function zoom(img) {
    const overlay = document.createElement("div");
    overlay.className = "ftlib-zoom-overlay";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "Figure at full resolution");
    const close = document.createElement("button");
    close.className = "ftlib-zoom-close";
    close.type = "button";
    close.textContent = "Close ✕";
    const big = document.createElement("img");
    big.src = img.src;
    big.alt = img.alt;
    overlay.appendChild(close);
    overlay.appendChild(big);
    const done = () => {
      overlay.remove();
      document.removeEventListener("keydown", onKey);
      img.focus();
    };
    const onKey = (ev) => { if (ev.key === "Escape") done(); };
    overlay.addEventListener("click", done);
    document.addEventListener("keydown", onKey);
    document.body.appendChild(overlay);
    close.focus();
  }

  function zoomable() {
    document.querySelectorAll("img.ftlib-zoomable").forEach((img) => {
      img.addEventListener("click", () => zoom(img));
      img.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); zoom(img); }
      });
    });
  }

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(() => {
    forwardToggles(".primary-toggle");
    forwardToggles(".secondary-toggle");
    zoomable();
  });
})();
