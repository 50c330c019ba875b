// The report page: draws its charts as SVG and fills its tables from the JSON lineage
// embedded. Everything that came from the Hub (family ids, examples) is shown with
// textContent; nothing is ever parsed as HTML.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var SVGNS = "http://www.w3.org/2000/svg";
  var pct = function (v) { return (100 * v).toFixed(1) + "%"; };
  var pp = function (v) { return (v >= 0 ? "+" : "−") + Math.abs(100 * v).toFixed(1) + " pp"; };
  var num = new Intl.NumberFormat("en-US");
  var byId = function (id) { return document.getElementById(id); };
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  var shown = {};
  D.regions.forEach(function (r) { shown[r] = true; });

  // -- the headline --------------------------------------------------------------------------
  (function () {
    var drivers = D.drivers, parts = [];
    drivers.regions.forEach(function (r) {
      if (r.region === "china" || r.region === "eu") {
        parts.push(D.names[r.region] + "'s families went from " + pct(r.first) + " of new derivatives in " +
          drivers.first + " to " + pct(r.last) + " in " + drivers.last);
      }
    });
    byId("headline").textContent = parts.length ? parts.join("; ") + "." : "";
    var st = D.meta.store;
    byId("byline").textContent = num.format(D.coverage.derivatives) + " derivatives, " + D.months[0] + " to " +
      D.months[D.months.length - 1] + ", from a store observed " + (st.first && st.first !== st.last ? st.first + " to " : "") +
      (st.last || "on an unknown date") + " · lineage " + D.meta.version + " · report made " + D.meta.generated;
  })();

  // -- the stacked share chart ---------------------------------------------------------------
  var W = 760, H = 400, M = { l: 48, r: 12, t: 18, b: 86 }, STRIP = 46;
  var n = D.months.length, plotW = W - M.l - M.r, plotH = H - M.t - M.b - STRIP - 12;
  var colW = plotW / n;
  var shareBox = byId("share-box"), shareTip = byId("share-tip");
  var chart = svg("svg", { "class": "chart", viewBox: "0 0 " + W + " " + H, role: "img", tabindex: "0",
    "aria-label": "Monthly share of new derivatives by region; hover or use the arrow keys for a month's numbers" });
  chart.id = "share-chart";
  shareBox.insertBefore(chart, shareTip);
  var defs = svg("defs");
  var hatch = svg("pattern", { id: "low", width: "6", height: "6", patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
  hatch.appendChild(svg("rect", { width: "6", height: "6", fill: "rgba(255,255,255,0.55)" }));
  hatch.appendChild(svg("line", { x1: "0", y1: "0", x2: "0", y2: "6", stroke: "#555", "stroke-width": "1" }));
  defs.appendChild(hatch);
  var dots = svg("pattern", { id: "partial", width: "5", height: "5", patternUnits: "userSpaceOnUse" });
  dots.appendChild(svg("circle", { cx: "2.5", cy: "2.5", r: "1", fill: "#333" }));
  defs.appendChild(dots);
  chart.appendChild(defs);
  var areas = svg("g", { id: "areas" }), overlay = svg("g"), axes = svg("g"), cursor = svg("rect", {
    y: M.t, height: plotH, width: colW, fill: "none", stroke: "#212529", "stroke-width": "1.5", visibility: "hidden" });
  chart.appendChild(areas);
  chart.appendChild(overlay);
  chart.appendChild(axes);
  chart.appendChild(cursor);
  function x(i) { return M.l + i * colW; }
  function y(v) { return M.t + plotH * (1 - v); }
  function drawAreas() {
    while (areas.firstChild) areas.removeChild(areas.firstChild);
    var base = new Array(n).fill(0);
    D.regions.forEach(function (r) {
      if (!shown[r]) return;
      var s = D.derivatives.share[r], top = [], bottom = [];
      for (var i = 0; i < n; i++) {
        var b = base[i], t = b + s[i];
        top.push(x(i) + "," + y(t), x(i + 1) + "," + y(t));
        bottom.push(x(i) + "," + y(b), x(i + 1) + "," + y(b));
        base[i] = t;
      }
      var poly = svg("polygon", { points: top.concat(bottom.reverse()).join(" "), fill: D.colors[r], "data-region": r });
      poly.appendChild(svg("title", null, D.names[r]));
      areas.appendChild(poly);
    });
  }
  drawAreas();
  (function () {
    var low = D.meta.min_month_count, total = D.derivatives.total;
    for (var i = 0; i < n; i++) {
      if (total[i] < low) overlay.appendChild(svg("rect", { x: x(i), y: M.t, width: colW, height: plotH, fill: "url(#low)", "class": "low" }));
    }
    if (D.meta.partial) {
      overlay.appendChild(svg("rect", { x: x(n - 1), y: M.t, width: colW, height: plotH, fill: "url(#partial)", "class": "partial" }));
      overlay.appendChild(svg("text", { x: x(n - 1) + colW / 2, y: M.t - 5, "text-anchor": "middle", "font-size": "10" }, "partial"));
    }
    [0, 0.25, 0.5, 0.75, 1].forEach(function (v) {
      axes.appendChild(svg("line", { x1: M.l, x2: M.l + plotW, y1: y(v), y2: y(v), stroke: "#dee2e6", "stroke-width": v ? "0.6" : "1" }));
      axes.appendChild(svg("text", { x: M.l - 6, y: y(v) + 4, "text-anchor": "end", "font-size": "11", fill: "#495057" }, (100 * v) + "%"));
    });
    // the count strip: derivatives counted each month
    var top = M.t + plotH + 10, max = Math.max.apply(null, total.concat([low]));
    for (i = 0; i < n; i++) {
      var h = STRIP * total[i] / max;
      axes.appendChild(svg("rect", { x: x(i) + 0.5, y: top + STRIP - h, width: Math.max(colW - 1, 0.5), height: h,
        fill: total[i] < low ? "#bbb" : "#555", "class": "count" }));
    }
    axes.appendChild(svg("text", { x: M.l - 6, y: top + STRIP / 2 + 4, "text-anchor": "end", "font-size": "10", fill: "#495057" }, num.format(max)));
    var every = Math.max(1, Math.ceil(n / 12));
    for (i = 0; i < n; i += every) {
      var tx = x(i) + colW / 2, ty = top + STRIP + 14;
      axes.appendChild(svg("text", { x: tx, y: ty, "text-anchor": "end", "font-size": "11", fill: "#495057",
        transform: "rotate(-35 " + tx + " " + ty + ")" }, D.months[i]));
    }
    axes.appendChild(svg("text", { x: M.l + plotW / 2, y: H - 4, "text-anchor": "middle", "font-size": "12", fill: "#343a40" },
      "month the derivative was created (UTC); bars: derivatives counted"));
  })();

  // -- hover and keys: a month's numbers -----------------------------------------------------
  var active = -1;
  function row(table, cells, cls) {
    var tr = el("tr", cls ? { "class": cls } : null);
    cells.forEach(function (c, j) { tr.appendChild(el("td", j ? { "class": "n" } : null, c)); });
    table.appendChild(tr);
  }
  function showMonth(i, px, py) {
    active = Math.max(0, Math.min(n - 1, i));
    cursor.setAttribute("x", x(active));
    cursor.setAttribute("visibility", "visible");
    shareTip.replaceChildren();
    var head = el("div", null, D.months[active] + " · " + num.format(D.derivatives.total[active]) + " derivatives");
    head.style.fontWeight = "600";
    shareTip.appendChild(head);
    if (D.derivatives.total[active] < D.meta.min_month_count) shareTip.appendChild(el("div", { "class": "muted" }, "fewer than " + D.meta.min_month_count + ": shares swing on a handful"));
    if (D.meta.partial && active === n - 1) shareTip.appendChild(el("div", { "class": "muted" }, "partial: to " + D.meta.partial));
    var table = el("table");
    D.regions.slice().reverse().forEach(function (r) {
      row(table, [D.names[r] + (shown[r] ? "" : " (hidden)"), num.format(D.derivatives.count[r][active]), pct(D.derivatives.share[r][active])],
        shown[r] ? null : "hidden-region");
    });
    shareTip.appendChild(table);
    shareTip.hidden = false;
    var box = shareBox.getBoundingClientRect(), scale = box.width / W;
    var left = px !== undefined ? px : (x(active) + colW) * scale, topY = py !== undefined ? py : M.t * scale;
    if (left + 14 + shareTip.offsetWidth > box.width) left = left - shareTip.offsetWidth - 28;
    shareTip.style.left = Math.max(0, left + 14) + "px";
    shareTip.style.top = Math.max(0, topY) + "px";
    document.body.dataset.month = D.months[active];
  }
  function hideMonth() {
    cursor.setAttribute("visibility", "hidden");
    shareTip.hidden = true;
    active = -1;
    delete document.body.dataset.month;
  }
  chart.addEventListener("mousemove", function (ev) {
    var box = chart.getBoundingClientRect(), scale = box.width / W;
    var cx = (ev.clientX - box.left) / scale, i = Math.floor((cx - M.l) / colW);
    if (i < 0 || i >= n) { hideMonth(); return; }
    showMonth(i, ev.clientX - box.left, ev.clientY - box.top);
  });
  chart.addEventListener("mouseleave", hideMonth);
  chart.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
      showMonth(active < 0 ? (ev.key === "ArrowRight" ? 0 : n - 1) : active + (ev.key === "ArrowRight" ? 1 : -1));
    } else if (ev.key === "Home") showMonth(0);
    else if (ev.key === "End") showMonth(n - 1);
    else if (ev.key === "Escape") hideMonth();
    else return;
    ev.preventDefault();
  });

  // -- region toggles --------------------------------------------------------------------------
  var toggles = byId("toggles");
  D.regions.slice().reverse().forEach(function (r) {
    var b = el("button", { type: "button", "aria-pressed": "true", "data-region": r });
    var chip = el("span", { "class": "chip" });
    chip.style.background = D.colors[r];
    b.appendChild(chip);
    b.appendChild(document.createTextNode(D.names[r]));
    b.addEventListener("click", function () {
      shown[r] = !shown[r];
      b.setAttribute("aria-pressed", shown[r] ? "true" : "false");
      drawAreas();
      drawDownloads();
      if (active >= 0) showMonth(active);
    });
    toggles.appendChild(b);
  });

  // -- download share beside it ----------------------------------------------------------------
  var dlBox = byId("downloads-box"), dlTip = byId("downloads-tip");
  var DW = 420, DH = 400, DM = { l: 44, r: 10, t: 18, b: 86 };
  var dl = svg("svg", { "class": "chart", viewBox: "0 0 " + DW + " " + DH, role: "img", id: "downloads-chart",
    "aria-label": "Share of last-30-days downloads by region, at each snapshot" });
  dlBox.insertBefore(dl, dlTip);
  var dlLines = svg("g", { id: "download-lines" });
  function drawDownloads() {
    while (dlLines.firstChild) dlLines.removeChild(dlLines.firstChild);
    var S = D.downloads.share;
    if (!S) return;
    var m = D.downloads.months.length, w = (DW - DM.l - DM.r) / Math.max(1, m - 1), h = DH - DM.t - DM.b;
    D.regions.forEach(function (r) {
      if (!shown[r]) return;
      var pts = S[r].map(function (v, i) { return (DM.l + i * w) + "," + (DM.t + h * (1 - v)); });
      var line = svg("polyline", { points: pts.join(" "), fill: "none", stroke: D.colors[r], "stroke-width": "2.2", "data-region": r });
      line.appendChild(svg("title", null, D.names[r]));
      dlLines.appendChild(line);
      S[r].forEach(function (v, i) {
        var dot = svg("circle", { cx: DM.l + i * w, cy: DM.t + h * (1 - v), r: "3", fill: D.colors[r] });
        dot.appendChild(svg("title", null, D.names[r] + ", " + D.downloads.months[i] + ": " + pct(v)));
        dlLines.appendChild(dot);
      });
    });
  }
  (function () {
    var h = DH - DM.t - DM.b;
    dl.appendChild(svg("text", { x: DM.l, y: 12, "font-size": "12", "font-weight": "600", fill: "#343a40" }, "Share of downloads (last 30 days, at each snapshot)"));
    [0, 0.25, 0.5, 0.75, 1].forEach(function (v) {
      dl.appendChild(svg("line", { x1: DM.l, x2: DW - DM.r, y1: DM.t + h * (1 - v), y2: DM.t + h * (1 - v), stroke: "#dee2e6" }));
      dl.appendChild(svg("text", { x: DM.l - 6, y: DM.t + h * (1 - v) + 4, "text-anchor": "end", "font-size": "11", fill: "#495057" }, (100 * v) + "%"));
    });
    if (!D.downloads.share) {
      var note = svg("text", { x: DM.l + 8, y: DM.t + h / 2, "font-size": "12.5", fill: "#495057", id: "downloads-note" });
      var lines = [
        D.downloads.snapshots === 1 ? "One snapshot (" + D.downloads.months[0] + "): not a series." :
          "No snapshot in these months.",
        "A series needs snapshots over time:",
        "crawl again later, or ingest several",
        "hub-stats dumps (lineage ingest hub-stats)."
      ];
      lines.forEach(function (t, i) { note.appendChild(svg("tspan", { x: DM.l + 8, dy: i ? "1.4em" : "0" }, t)); });
      dl.appendChild(note);
    } else {
      var m = D.downloads.months.length, w = (DW - DM.l - DM.r) / Math.max(1, m - 1), every = Math.max(1, Math.ceil(m / 8));
      for (var i = 0; i < m; i += every) {
        var tx = DM.l + i * w, ty = DM.t + h + 16;
        dl.appendChild(svg("text", { x: tx, y: ty, "text-anchor": "end", "font-size": "11", fill: "#495057", transform: "rotate(-35 " + tx + " " + ty + ")" }, D.downloads.months[i]));
      }
    }
    dl.appendChild(dlLines);
    drawDownloads();
  })();
  var notes = ["Hatched months: fewer than " + D.meta.min_month_count + " derivatives counted."];
  if (D.meta.partial) notes.push("Dotted: the last month is partial (counted to " + D.meta.partial + ").");
  notes.push("A hidden region leaves the others' shares as they are.");
  byId("chart-notes").textContent = notes.join(" ");

  // -- tables ----------------------------------------------------------------------------------
  function dataTable(head, rows, numeric) {
    var t = el("table", { "class": "data" }), thead = el("thead"), tr = el("tr");
    head.forEach(function (h, j) { tr.appendChild(el("th", numeric[j] ? { "class": "n" } : null, h)); });
    thead.appendChild(tr);
    t.appendChild(thead);
    var body = el("tbody");
    rows.forEach(function (r) {
      var row = el("tr");
      r.forEach(function (c, j) {
        var td = el("td", numeric[j] ? { "class": "n" } : null);
        if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? "" : String(c);
        row.appendChild(td);
      });
      body.appendChild(row);
    });
    t.appendChild(body);
    return t;
  }
  (function () {
    var dr = D.drivers;
    byId("drivers-intro").textContent = "Each family's share of all new derivatives in " + dr.first + " and in " + dr.last +
      ": the families whose share rose or fell most, by region (a region's change is the sum of its families').";
    var box = byId("drivers");
    dr.regions.forEach(function (r) {
      var part = el("div", { "class": "driver", "data-region": r.region });
      var change = r.last - r.first;
      var h = el("h3");
      h.appendChild(document.createTextNode(D.names[r.region] + ": " + pct(r.first) + " → " + pct(r.last) + " "));
      h.appendChild(el("span", { "class": change >= 0 ? "up" : "down" }, "(" + pp(change) + ")"));
      part.appendChild(h);
      var rows = [];
      r.gainers.forEach(function (f) { rows.push(["rose", f[0], pct(f[1]), pct(f[2]), pp(f[3])]); });
      r.losers.forEach(function (f) { rows.push(["fell", f[0], pct(f[1]), pct(f[2]), pp(f[3])]); });
      if (rows.length) part.appendChild(dataTable(["", "family", dr.first, dr.last, "change"], rows, [0, 0, 1, 1, 1]));
      else part.appendChild(el("p", { "class": "muted" }, "no family's share changed"));
      box.appendChild(part);
    });
    var c = D.coverage;
    byId("coverage").textContent = num.format(c.unknown_derivatives) + " of " + num.format(c.derivatives) +
      " derivatives counted (" + pct(c.unknown_share) + " of their weight) descend from root organizations the region table does not know: " +
      "they are counted as unknown, never guessed. " + (c.unmapped.length ? "The organizations behind most of them:" : "");
    if (c.unmapped.length) {
      byId("unmapped").appendChild(dataTable(["organization", "derivatives", "weight", "example roots"],
        c.unmapped.map(function (u) { return [u[0], num.format(u[1]), u[2].toFixed(1), (u[3] || []).join(", ")]; }), [0, 1, 1, 0]));
    }
    byId("quality").appendChild(dataTable(["check", "count", "examples"],
      D.quality.map(function (q) { return [q[0], num.format(q[1]), (q[2] || []).join(", ")]; }), [0, 1, 0]));
    var filters = byId("filters");
    D.meta.filters.forEach(function (f) { filters.appendChild(el("li", null, f)); });
    var st = D.meta.store, run = st.last_run;
    byId("store").textContent = "Store: " + st.path + " (format " + st.format + "), " + num.format(st.models) + " models and parents; observed " +
      (st.first || "?") + " to " + (st.last || "?") + "; " + num.format(st.runs) + " crawls or ingests" +
      (run ? ", the last a " + run.kind + (run.strategy ? " (" + run.strategy + ")" : "") + " finished " + run.finished : "") +
      "; " + num.format(st.snapshots) + " dated snapshots of download counters. Made with lineage " + D.meta.version + " on " + D.meta.generated + ".";
  })();

  window.report = { data: D, showMonth: showMonth, hideMonth: hideMonth, shown: shown };
  document.body.dataset.state = "stable";
})();
