// PySetl Hub: the few behaviours the pages add to plain HTML. Everything works without it.
(function () {
  "use strict";

  // Copy buttons: data-copy names the element whose text is copied.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy") : null;
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied") || label;
      button.setAttribute("aria-live", "polite");
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // "/" moves the focus to the search box, as on most catalogues.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(input|textarea|select)$/i.test(target.tagName))) return;
    var box = document.getElementById("q") || document.getElementById("top-q");
    if (box) { event.preventDefault(); box.focus(); }
  });
})();

// Search as you type waits for a second letter: one letter matches nearly everything, and the
// results would only flicker. Enter (or the button) still searches for one letter.
document.addEventListener("htmx:confirm", function (event) {
  "use strict";
  var box = document.getElementById("q");
  var trigger = event.detail && event.detail.triggerEvent;
  if (!box || !trigger || trigger.type !== "input") return;
  var length = box.value.trim().length;
  if (length === 1) event.preventDefault();
});
