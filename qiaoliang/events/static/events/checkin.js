/* The check-in page: read the ticket's QR code with the phone's camera (jsQR, vendored; nothing is sent but the
   code) and check it in through the same form as a typed code (htmx), so the server's answer is shown the same
   way. A code read again within a few seconds is not sent twice. */
(function () {
  "use strict";
  var root = document.querySelector("[data-checkin-camera]");
  var startButton = document.querySelector("[data-checkin-start]");
  var stopButton = document.querySelector("[data-checkin-stop]");
  var status = document.querySelector("[data-checkin-camera-status]");
  var video = document.querySelector("[data-checkin-video]");
  var canvas = document.querySelector("[data-checkin-canvas]");
  var form = document.getElementById("checkin-form");
  var input = document.getElementById("ticket-input");
  if (!root || !startButton || !video || !canvas || !form) { return; }
  var stream = null;
  var lastCode = "";
  var lastAt = 0;
  var context = canvas.getContext("2d", { willReadFrequently: true });

  function send(code) {
    var now = Date.now();
    if (code === lastCode && now - lastAt < 4000) { return; }
    lastCode = code;
    lastAt = now;
    if (navigator.vibrate) { navigator.vibrate(80); }
    if (window.htmx) {
      window.htmx.ajax("POST", form.getAttribute("data-checkin-url"), {
        source: form, target: "#checkin-result", swap: "innerHTML", values: { ticket: code, method: "scan" }
      });
    } else {
      input.value = code;
      form.querySelector("[name=method]").value = "scan";
      form.submit();
    }
  }

  function tick() {
    if (!stream) { return; }
    if (video.readyState === video.HAVE_ENOUGH_DATA && window.jsQR) {
      var width = video.videoWidth;
      var height = video.videoHeight;
      var side = Math.min(width, height, 720);
      canvas.width = side;
      canvas.height = side;
      context.drawImage(video, (width - side) / 2, (height - side) / 2, side, side, 0, 0, side, side);
      var image = context.getImageData(0, 0, side, side);
      var found = window.jsQR(image.data, side, side, { inversionAttempts: "dontInvert" });
      if (found && found.data) { send(found.data.trim()); }
    }
    window.requestAnimationFrame(tick);
  }

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    root.hidden = true;
    startButton.hidden = false;
    if (stopButton) { stopButton.hidden = true; }
  }

  startButton.addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      status.textContent = startButton.getAttribute("data-unsupported") || status.textContent;
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (media) {
      stream = media;
      video.srcObject = media;
      video.play();
      root.hidden = false;
      startButton.hidden = true;
      if (stopButton) { stopButton.hidden = false; }
      window.requestAnimationFrame(tick);
    }).catch(function () {
      status.textContent = startButton.getAttribute("data-denied") || status.textContent;
    });
  });
  if (stopButton) { stopButton.addEventListener("click", stop); }
  document.addEventListener("visibilitychange", function () { if (document.hidden) { stop(); } });
  form.addEventListener("htmx:afterRequest", function () { input.value = ""; input.focus(); });
})();
