/* Qiaoliang page behaviour, without inline scripts (the Content-Security-Policy allows scripts from this site
   only): forms that submit on change, confirmations, "go back" buttons, and the "send the code" buttons of
   mobile checks. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("[data-autosubmit]") && target.form) {
      target.form.submit();
    }
  });
  // A button or form with data-confirm asks before an action that cannot be undone.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("[data-history-back]") : null;
    if (button) {
      event.preventDefault();
      history.back();
      return;
    }
    var sender = event.target && event.target.closest ? event.target.closest("[data-send-code]") : null;
    if (!sender) {
      return;
    }
    event.preventDefault();
    var form = sender.form;
    var mobile = form.querySelector("[name=mobile]");
    var status = form.querySelector("[data-code-status]");
    var data = new FormData();
    data.append("purpose", sender.getAttribute("data-purpose"));
    data.append("mobile", mobile ? mobile.value : "");
    data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    sender.disabled = true;
    fetch(sender.getAttribute("data-url"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (json) { if (status) { status.textContent = json.detail || ""; } })
      .catch(function () { if (status) { status.textContent = sender.getAttribute("data-error"); } });
    setTimeout(function () { sender.disabled = false; }, 60000);
  });
})();

/* Search-as-you-type pickers for GB/T 4754 industry and GB/T 2260 region codes: typing a word or a code
   fills the input's suggestion list from the server (the value stays the code the services check). */
(function () {
  "use strict";
  function attach(root) {
    var holder = root.querySelector("[data-code-pickers]");
    if (!holder) { return; }
    [["industry_code", "industry-options", holder.getAttribute("data-industries")],
     ["region_code", "region-options", holder.getAttribute("data-regions")]].forEach(function (spec) {
      var input = root.querySelector("input[name=" + spec[0] + "]");
      var list = root.querySelector("#" + spec[1]);
      if (!input || !list) { return; }
      input.setAttribute("list", spec[1]);
      input.setAttribute("autocomplete", "off");
      var timer = null;
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          fetch(spec[2] + "?q=" + encodeURIComponent(input.value), { credentials: "same-origin" })
            .then(function (response) { return response.text(); })
            .then(function (html) { list.innerHTML = html; });
        }, 200);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { attach(document); });
})();
