/* The USWDS mobile menu hides the page behind it from screen readers
   (aria-hidden plus data-nav-hidden) and traps the Tab key, but the hidden
   links can still take focus by pointer or by script: a focused element no
   screen reader can announce. Making the same elements inert while the menu
   is open takes them out of reach entirely. */
(function () {
  "use strict";
  var OPEN_CLASS = "usa-js-mobile-nav--active";
  var inerted = [];
  var wasOpen = false;

  function sync() {
    var open = document.body.classList.contains(OPEN_CLASS);
    if (open === wasOpen) {
      return;  // some other class changed
    }
    wasOpen = open;
    inerted.forEach(function (el) { el.inert = false; });
    inerted = [];
    if (open) {
      document.querySelectorAll("[data-nav-hidden]").forEach(function (el) {
        el.inert = true;
        inerted.push(el);
      });
      return;
    }
    // USWDS hands focus back to the Menu button as it closes, while that
    // button was still inert; do it again now it can take focus. Focus is
    // then still on the closed menu's Close button, or already dropped.
    var menuButton = document.querySelector(".usa-menu-btn");
    var focused = document.activeElement;
    var lost = !focused || focused === document.body || focused.closest(".usa-nav") !== null;
    if (lost && menuButton && getComputedStyle(menuButton).display !== "none") {
      menuButton.focus();
    }
  }

  new MutationObserver(sync).observe(document.body, { attributes: true, attributeFilter: ["class"] });
})();
