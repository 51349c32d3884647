// Upload progress for the import form. Without this script the form posts as usual and the
// server answers with the report page; with it, the same POST goes through XMLHttpRequest so
// the reader sees how much was sent, then the report page replaces this one.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var box = document.getElementById("upload-progress");
  var bar = box.querySelector("progress");
  var status = document.getElementById("upload-status");

  function say(text, percent) {
    box.hidden = false;
    status.textContent = text;
    if (percent === null) { bar.removeAttribute("value"); } else { bar.value = percent; }
  }

  form.addEventListener("submit", function (event) {
    if (!form.checkValidity()) { return; }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.responseType = "document";
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        var percent = Math.round((e.loaded / e.total) * 100);
        say(form.dataset.sending.replace("{percent}", percent), percent);
      }
    });
    request.upload.addEventListener("load", function () { say(form.dataset.reading, null); });
    request.addEventListener("load", function () {
      var page = request.response;
      if (!page || !page.body) { say(form.dataset.failed, 0); button.disabled = false; return; }
      document.title = page.title;
      document.body.replaceWith(document.importNode(page.body, true));
      var report = document.getElementById("report") || document.getElementById("main");
      if (report) { report.focus(); }
    });
    request.addEventListener("error", function () {
      say(form.dataset.failed, 0);
      button.disabled = false;
    });
    say(form.dataset.sending.replace("{percent}", 0), 0);
    request.send(new FormData(form));
  });
}());
