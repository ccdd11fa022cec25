(function () {
  "use strict";
  // Cine players: every frame sits side by side in one image strip; showing frame k shifts the strip.
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  document.querySelectorAll(".cine").forEach(function (player) {
    var strip = player.querySelector(".cine-strip");
    var button = player.querySelector(".cine-play");
    var slider = player.querySelector(".cine-frame");
    var label = player.querySelector(".cine-label");
    var n = parseInt(player.dataset.frames, 10);
    var interval = parseFloat(player.dataset.intervalMs);
    var frame = 0;
    var timer = null;
    function show(k) {
      frame = ((k % n) + n) % n;
      strip.style.transform = "translateX(" + (-100 * frame / n) + "%)";
      slider.value = String(frame);
      label.textContent = "frame " + (frame + 1) + " / " + n;
    }
    function play() {
      if (timer === null) { timer = window.setInterval(function () { show(frame + 1); }, interval); }
      button.textContent = "Pause";
    }
    function pause() {
      if (timer !== null) { window.clearInterval(timer); timer = null; }
      button.textContent = "Play";
    }
    button.addEventListener("click", function () { if (timer === null) { play(); } else { pause(); } });
    slider.addEventListener("input", function () { pause(); show(parseInt(slider.value, 10)); });
    show(0);
    if (n > 1 && !still) { play(); } else { pause(); }
  });
})();
