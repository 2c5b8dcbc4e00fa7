// Connect Gmail / Outlook in a pop-up window, as users know it from other
// apps. Without JavaScript the forms post in the page and redirect back.
(function () {
  "use strict";

  // In the pop-up, at the end of the flow: refresh the opener, then close.
  var then = document.body && document.body.dataset.then;
  if (then !== undefined && document.querySelector(".connect-form") === null) {
    if (window.opener && !window.opener.closed) {
      window.opener.location.assign(then);
      window.close();
    } else {
      window.location.assign(then);
    }
    return;
  }

  // On My Profile: open the pop-up and post the connect form into it.
  document.querySelectorAll(".connect-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var name = "revstackr-connect";
      var popup = window.open("", name, "width=520,height=680");
      if (!popup) {
        return; // blocked: the form posts in this window instead
      }
      form.target = name;
      form.querySelector("input[name=next]").value = form.dataset.popupNext;
    });
  });
})();
