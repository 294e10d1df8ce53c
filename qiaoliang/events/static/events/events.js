/* Small behaviours of the event pages, without inline scripts: the event form shows the matchmaking fields for a
   resource exchange meeting only, and the organisations when the event is for their members only; print buttons print the page. */
(function () {
  "use strict";
  var kind = document.querySelector("select[name=kind]");
  var block = document.querySelector("[data-matchmaking-fields]");
  function toggle() { if (kind && block) { block.hidden = kind.value !== "exchange"; } }
  if (kind && block) { kind.addEventListener("change", toggle); toggle(); }
  var audience = document.querySelector("select[name=audience]");
  var members = document.querySelector("[data-field=audience_organizations]");
  function toggleMembers() { if (audience && members) { members.hidden = audience.value !== "organizations"; } }
  if (audience && members) { audience.addEventListener("change", toggleMembers); toggleMembers(); }
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("[data-print]") : null;
    if (button) { event.preventDefault(); window.print(); }
  });
})();
