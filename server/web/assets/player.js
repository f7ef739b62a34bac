// The call page: size the recording bar's stretches (no inline styles under
// the page's Content-Security-Policy).
"use strict";
document.querySelectorAll(".bar span[data-width]").forEach(function (s) {
  s.style.width = s.dataset.width;
});

// A score's evidence links jump the player to the stretch they name.
document.querySelectorAll("a[data-seek]").forEach(function (a) {
  a.addEventListener("click", function (e) {
    var player = document.getElementById("player");
    if (!player) {
      return;
    }
    e.preventDefault();
    player.currentTime = parseFloat(a.dataset.seek);
    player.play();
  });
});
