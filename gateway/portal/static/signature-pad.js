// The signature pad: pointer events (mouse, touch, stylus) on a 480x160 drawing space
// that scales to the screen. It sends SVG path data only ("M x y L x y ..."), in the
// pad's own coordinates, never markup; the server checks it and draws the SVG itself.
// Its words are the page's, in the reader's language: the hint's data-* attributes.
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  if (!canvas) { return; }
  var WIDTH = 480, HEIGHT = 160, MAX_BYTES = 10240;
  var ctx = canvas.getContext("2d");
  var field = document.getElementById("signature_path");
  var form = document.getElementById("sign-form");
  var hint = document.getElementById("pad-hint");
  function say(name) { hint.textContent = hint.getAttribute("data-" + name) || ""; }
  var strokes = [], current = null;

  function setupCanvas() {
    var ratio = window.devicePixelRatio || 1;
    canvas.width = WIDTH * ratio;
    canvas.height = HEIGHT * ratio;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.lineWidth = 2; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#111";
    redraw();
  }

  function point(event) {
    var rect = canvas.getBoundingClientRect();
    var x = (event.clientX - rect.left) * WIDTH / rect.width;
    var y = (event.clientY - rect.top) * HEIGHT / rect.height;
    return [Math.min(WIDTH, Math.max(0, Math.round(x * 10) / 10)),
            Math.min(HEIGHT, Math.max(0, Math.round(y * 10) / 10))];
  }

  function redraw() {
    ctx.clearRect(0, 0, WIDTH, HEIGHT);
    strokes.forEach(function (stroke) {
      ctx.beginPath();
      stroke.forEach(function (p, i) { if (i) { ctx.lineTo(p[0], p[1]); } else { ctx.moveTo(p[0], p[1]); } });
      ctx.stroke();
    });
  }

  function pathData() {
    return strokes.filter(function (s) { return s.length > 1; }).map(function (stroke) {
      return stroke.map(function (p, i) { return (i ? "L" : "M") + p[0] + " " + p[1]; }).join(" ");
    }).join(" ");
  }

  function update() {
    var data = pathData();
    field.value = data;
    if (data.length > MAX_BYTES) {
      say("too-detailed");
    } else {
      say(data ? "signed" : "empty");
    }
  }

  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!current) { return; }
    event.preventDefault();
    var p = point(event), last = current[current.length - 1];
    if (p[0] === last[0] && p[1] === last[1]) { return; }
    current.push(p);
    ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
  });
  function finish() { if (current) { current = null; update(); } }
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);

  document.getElementById("clear-signature").addEventListener("click", function () {
    strokes = []; current = null; redraw(); update();
  });
  form.addEventListener("submit", function (event) {
    update();
    if (!field.value) {
      event.preventDefault();
      say("missing");
    }
  });
  setupCanvas();
})();
