// brink report page: draws the charts whose data the page carries in
// #brink-data with uPlot (inlined above), and marks the breakpoint and the
// crossings on each as DOM elements (.marker.breakpoint, .marker.crossing).
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("brink-data").textContent);
  var palette = ["#2a6fdb", "#e8590c", "#b3261e", "#2f9e44", "#7048e8", "#0c8599", "#c2255c", "#5c940d", "#495057"];
  var HEIGHT = 220;

  function trim(v, prec) {
    return String(Number(v.toFixed(prec)));
  }
  function elapsed(s) {
    var sign = s < 0 ? "-" : "+";
    s = Math.round(Math.abs(s));
    if (s < 60) return sign + s + "s";
    var m = Math.floor(s / 60), r = s % 60;
    return sign + m + "m" + (r < 10 ? "0" : "") + r + "s";
  }
  function bytes(v) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return trim(v, 1) + " " + units[i];
  }
  function value(unit, v) {
    if (v == null || !isFinite(v)) return "-";
    switch (unit) {
      case "ms": return v >= 10000 ? trim(v / 1000, 1) + " s" : v >= 100 ? Math.round(v) + " ms" : trim(v, 2) + " ms";
      case "%": return trim(v, 1) + " %";
      case "B/s": return bytes(v) + "/s";
      case "/s": return trim(v, 1) + "/s";
      case "users": return trim(v, 1);
    }
    return trim(v, 2);
  }

  // markers draws the chart's vertical lines in uPlot's overlay after each
  // redraw (a zoom moves them).
  function markers(list) {
    return { hooks: { draw: function (u) {
      var old = u.over.querySelectorAll(".marker");
      for (var i = 0; i < old.length; i++) old[i].remove();
      list.forEach(function (m) {
        var x = u.valToPos(m.x, "x");
        if (!(x >= 0 && x <= u.over.clientWidth)) return;
        var d = document.createElement("div");
        d.className = "marker " + m.kind;
        d.style.left = x + "px";
        d.title = m.label;
        var s = document.createElement("span");
        s.textContent = m.kind === "breakpoint" ? m.label.split(":")[0] : m.kind === "abort" ? "abort" : "\u2715";
        d.appendChild(s);
        u.over.appendChild(d);
      });
    } } };
  }

  // axisSize fits the y axis to its longest label ("9.5 MiB/s").
  function axisSize(u, vals) {
    var n = 0;
    (vals || []).forEach(function (v) { n = Math.max(n, String(v).length); });
    return Math.max(40, n * 7 + 18);
  }

  var plots = [];
  D.charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    if (!el) return;
    // x is seconds since the start, or a load level (xunit).
    var fmtX = c.xunit ? function (v) { return c.xunit === "rate/s" ? trim(v, 1) + "/s" : trim(v, 1); } : elapsed;
    var series = [{ label: c.xunit || "time", value: function (u, v) { return v == null ? "-" : fmtX(v); } }];
    c.series.forEach(function (s, i) {
      series.push({ label: s.label, stroke: palette[(s.color != null ? s.color : i) % palette.length], width: 1.5, spanGaps: true, points: { show: !!c.xunit },
        dash: s.dash ? [6, 4] : undefined, value: function (u, v) { return value(c.unit, v); } });
    });
    var opts = {
      width: Math.max(el.clientWidth, 200), height: HEIGHT,
      scales: { x: { time: false } },
      axes: [
        { values: function (u, vals) { return vals.map(fmtX); } },
        { size: axisSize, values: function (u, vals) { return vals.map(function (v) { return value(c.unit, v); }); } }
      ],
      series: series,
      plugins: [markers(c.markers || [])]
    };
    plots.push({ u: new uPlot(opts, [c.x].concat(c.series.map(function (s) { return s.values; })), el), el: el });
  });

  var pending = 0;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      plots.forEach(function (p) { p.u.setSize({ width: Math.max(p.el.clientWidth, 200), height: HEIGHT }); });
    }, 100);
  });
  document.body.setAttribute("data-charts", String(plots.length));
})();
