/* The triage screen without a page reload: questions 3-5 are skipped while
   question 2 is "no" (and 6b while 6 is not "yes"). The server ignores
   skipped answers whatever this script does; without it, every question
   shows and the hint says which to skip. */
(function () {
  "use strict";
  var form = document.querySelector(".app-triage");
  if (!form) { return; }

  function value(name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : "";
  }

  function skip(container, skipped) {
    container.classList.toggle("app-is-skipped", skipped);
    container.querySelectorAll("input").forEach(function (input) {
      input.disabled = skipped;
    });
  }

  function sync() {
    var block = form.querySelector("[data-skip-when-q2-no]");
    if (block) { skip(block, value("q2") === "no"); }
    var recent = document.getElementById("q6_recent");
    if (recent) { skip(recent, value("q6") !== "yes"); }
  }

  form.addEventListener("change", sync);
  sync();
}());
