// The family tree page: draws the nodes lineage laid out on one canvas, shows each
// sub-family as one labelled disk until there is room to open it, labels as many nodes as
// fit without covering another label or node (most important first), and lets a reader
// focus a model, search by any part of an id (also inside "+N" nodes), and replay the
// family month by month.
//
// Everything that came from the Hub reaches the page as JSON and is shown with textContent
// or drawn as canvas text; nothing is ever parsed as HTML. Nodes are referred to by their
// integer index in the data, never by model id.
(function () {
  "use strict";
  var byId = function (id) { return document.getElementById(id); };
  var data = JSON.parse(byId("family-data").textContent);
  var N = data.nodes, E = data.edges, meta = data.meta, style = data.style, LAY = data.layout;
  var HUB = "https://huggingface.co/";
  var RELATIONS = ["finetune", "adapter", "quantized", "merge"];
  var count = N.kind.length, edgeCount = E.from.length;
  var fmt = new Intl.NumberFormat("en-US");
  var months = meta.months || [];
  var lastMonth = months.length - 1;
  var SP = LAY.spacing;  // world units between neighbouring models
  // A sub-family opens (its models drawn) once neighbouring models are this many pixels
  // apart; until then it is one disk with its name and size. A model's dot is never drawn
  // under RMIN pixels while it has the room, nor over its size (at most 9 px, roots 11).
  var OPEN_PX = 9, RMIN = 2;
  var STATUS_NOTE = {
    not_crawled: "known only as a parent here: its own derivatives were not crawled",
    missing: "not on the Hub (deleted, private or gated); declared as a parent",
    unresolved: "never looked up on the Hub; declared as a parent"
  };

  // -- the data as typed arrays ----------------------------------------------------------
  var X = new Float64Array(count), Y = new Float64Array(count);
  var DX = new Float64Array(count), DY = new Float64Array(count), DR = new Float64Array(count);
  var ROOM = new Float64Array(count), SIZE = new Float64Array(count);
  var KIND = new Uint8Array(count);  // 0 org, 1 root, 2 model, 3 group
  var MONTH = new Int32Array(count);  // -1: present from the start (no date)
  var PARENT = new Int32Array(count);
  var WEIGHT = new Float64Array(count);  // models at or below the node
  var ORDER = new Int32Array(count);  // node indices by label priority
  var KINDS = { org: 0, root: 1, model: 2, group: 3 };
  var orgNode = -1;
  for (var k = 0; k < count; k++) {
    X[k] = N.x[k]; Y[k] = N.y[k];
    KIND[k] = KINDS[N.kind[k]];
    var d = N.disk[k];
    if (d) { DX[k] = d[0]; DY[k] = d[1]; DR[k] = d[2]; }
    ROOM[k] = N.room[k] || SP / 2;
    SIZE[k] = N.size[k] || 0;
    if (KIND[k] === 0) orgNode = k;
    MONTH[k] = N.month[k] === null || N.month[k] === undefined ? -1 : N.month[k];
    PARENT[k] = N.parent[k] === null ? -1 : N.parent[k];
    ORDER[N.rank[k]] = k;
    WEIGHT[k] = KIND[k] === 3 ? N.group[k].models : (N.desc[k] ? N.desc[k].reduce(function (a, b) { return a + b; }, 0) + 1 : 1);
  }
  if (orgNode >= 0) for (k = 0; k < count; k++) if (KIND[k] === 1) PARENT[k] = orgNode;
  // Children in layout order, as compressed rows.
  var kidStart = new Int32Array(count + 1), kids = new Int32Array(count);
  for (k = 0; k < count; k++) if (PARENT[k] >= 0) kidStart[PARENT[k] + 1]++;
  for (k = 0; k < count; k++) kidStart[k + 1] += kidStart[k];
  var fill = kidStart.slice(0, count);
  for (k = 0; k < count; k++) if (PARENT[k] >= 0) kids[fill[PARENT[k]]++] = k;
  function childrenOf(k) { return kids.subarray(kidStart[k], kidStart[k + 1]); }
  // A node that opens: a model with nodes below it (a sub-family). Summary nodes never
  // open (the page does not hold their models); the organization is always open.
  var OPENS = new Uint8Array(count);
  for (k = 0; k < count; k++) OPENS[k] = KIND[k] !== 3 && KIND[k] !== 0 && kidStart[k + 1] > kidStart[k] ? 1 : 0;
  var TOP = new Int32Array(count);  // the top whose family a node belongs to (-1: the org)
  for (k = 0; k < count; k++) {
    var up = k;
    while (PARENT[up] >= 0 && KIND[up] !== 1) up = PARENT[up];
    TOP[k] = KIND[up] === 0 ? -1 : up;
  }
  var singleTop = orgNode < 0 && LAY.tops.length === 1 ? LAY.tops[0] : -1;
  var EFROM = Int32Array.from(E.from), ETO = Int32Array.from(E.to);
  var ESTYLE = new Uint8Array(edgeCount);  // 0-3 relation, 4 inferred lineage
  for (var e = 0; e < edgeCount; e++) {
    ESTYLE[e] = E.lineage && E.lineage[e] ? 4 : Math.max(0, RELATIONS.indexOf(E.relation[e]));
  }
  function runningAt(runs, t, whole) {
    // [month, running count] pairs: the count at month t, by binary search.
    if (!runs || !runs.length || t >= lastMonth) return whole;
    var lo = 0, hi = runs.length - 1, best = 0;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (runs[mid][0] <= t) { best = runs[mid][1]; lo = mid + 1; } else hi = mid - 1;
    }
    return best;
  }
  var TOTAL = new Float64Array(count);  // models at or below, at the last month
  for (k = 0; k < count; k++) {
    if (KIND[k] === 3) TOTAL[k] = N.group[k].models;
    else if (N.below[k] && N.below[k].length) TOTAL[k] = N.below[k][N.below[k].length - 1][1];
    else TOTAL[k] = 1;
  }
  // The models inside "+N" nodes, for the search: their ids, one a line, and their node.
  var HIDDEN = data.hidden || { ids: "", node: [] };
  var hiddenText = HIDDEN.ids.toLowerCase(), hiddenStarts = [0];
  for (var i0 = hiddenText.indexOf("\n"); i0 >= 0; i0 = hiddenText.indexOf("\n", i0 + 1)) hiddenStarts.push(i0 + 1);
  if (!HIDDEN.ids) hiddenStarts = [];

  // -- state -----------------------------------------------------------------------------
  var canvas = byId("graph"), stage = byId("stage"), ctx2d = canvas.getContext("2d");
  var width = 0, height = 0, dpr = 1;
  var view = { s: 1, tx: 0, ty: 0 };
  var month = lastMonth;  // the slider's month; everything is present at the last one
  var focus = -1, inFocus = null;  // inFocus: Uint8Array (1 = on the path or below)
  var forced = new Uint8Array(count);  // sub-families held open: the focus and its path
  var hover = -1;
  var history = [];
  var frame = { seq: 0, models: 0, groups: 0, groupModels: 0, painted: 0, edges: 0, labels: [], nodes: [], month: month };
  var present = new Uint8Array(count);
  var now = new Float64Array(count);  // models at or below a node at the slider's month
  function computePresent() {
    for (var k = 0; k < count; k++) {
      if (KIND[k] === 3) {
        now[k] = runningAt(N.group[k].months, month, N.group[k].models);
        present[k] = now[k] > 0 ? 1 : 0;
      } else {
        present[k] = KIND[k] === 0 || MONTH[k] <= month || month < 0 ? 1 : 0;
        now[k] = N.below[k] ? runningAt(N.below[k], month, TOTAL[k]) : present[k];
      }
    }
  }
  // What each node is drawn as in this frame: 0 not at all (not yet created, or inside a
  // closed disk), 1 its own shape (a sub-family's open), 2 a closed disk (a summary node,
  // or a sub-family without the room to open).
  var SHOW = new Uint8Array(count), OPEN = new Uint8Array(count);
  function computeShow() {
    var detail = SP * view.s >= OPEN_PX;
    for (var k = 0; k < count; k++) {  // parents come before their children
      var p = PARENT[k];
      OPEN[k] = 0;
      if (!present[k] || (p >= 0 && !(SHOW[p] === 1 && OPEN[p]))) { SHOW[k] = 0; continue; }
      if (KIND[k] === 0) { SHOW[k] = 1; OPEN[k] = 1; continue; }
      if (KIND[k] === 3) { SHOW[k] = 2; continue; }
      if (!OPENS[k]) { SHOW[k] = 1; continue; }
      OPEN[k] = k === singleTop || forced[k] || detail ? 1 : 0;
      SHOW[k] = OPEN[k] ? 1 : 2;
    }
  }

  // -- view transform --------------------------------------------------------------------
  function sx(k) { return X[k] * view.s + view.tx; }
  function sy(k) { return Y[k] * view.s + view.ty; }
  // The radius of node k's own shape in pixels: its size, within its room.
  function shapeRadius(k) {
    var room = ROOM[k] * view.s - 0.5, want = KIND[k] === 0 ? 14 : SIZE[k];
    var r = Math.min(want, room);
    return r >= RMIN ? r : Math.max(Math.min(RMIN, room), 1);
  }
  // The radius of a closed disk: the area of the models it had at the slider's month.
  function diskRadius(k) {
    return DR[k] * view.s * Math.sqrt(Math.min(1, now[k] / Math.max(1, TOTAL[k])));
  }
  var bounds = (function () {
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (var k = 0; k < count; k++) {
      var r = DR[k] > 0 ? DR[k] : ROOM[k], cx = DR[k] > 0 ? DX[k] : X[k], cy = DR[k] > 0 ? DY[k] : Y[k];
      x0 = Math.min(x0, cx - r); x1 = Math.max(x1, cx + r);
      y0 = Math.min(y0, cy - r); y1 = Math.max(y1, cy + r);
    }
    return [x0, y0, x1, y1];
  })();
  function fitBox(x0, y0, x1, y1, maxScale) {
    var pad = 24, padY = 36;  // room above and below for a root's name
    var w = Math.max(x1 - x0, 1), h = Math.max(y1 - y0, 1);
    var s = Math.min((width - 2 * pad) / w, (height - 2 * padY) / h);
    s = Math.min(s, maxScale || 2.5);
    view.s = s;
    view.tx = width / 2 - ((x0 + x1) / 2) * s;
    view.ty = height / 2 - ((y0 + y1) / 2) * s;
  }
  var fitScale = 1;
  function fitAll() {
    fitBox(bounds[0], bounds[1], bounds[2], bounds[3], 2.5);
    fitScale = view.s;
  }
  function zoomAt(px, py, factor) {
    var s = Math.min(8, Math.max(fitScale * 0.4, view.s * factor));
    factor = s / view.s;
    view.tx = px - (px - view.tx) * factor;
    view.ty = py - (py - view.ty) * factor;
    view.s = s;
    redraw();
  }

  // -- hit testing: what the last frame drew, in a grid over the screen --------------------
  var HIT = 32, hits = new Map();
  function hitKey(c, r) { return c * 100003 + r; }
  function indexShapes(shapes) {
    hits = new Map();
    for (var i = 0; i < shapes.length; i++) {
      var s = shapes[i], x = s[0], y = s[1], r = s[2];
      for (var c = Math.floor((x - r) / HIT); c <= Math.floor((x + r) / HIT); c++)
        for (var q = Math.floor((y - r) / HIT); q <= Math.floor((y + r) / HIT); q++) {
          var key = hitKey(c, q), list = hits.get(key);
          if (!list) hits.set(key, list = []);
          list.push(s);
        }
    }
  }
  // The node under a point: a node's own shape first, then the closed disk around it.
  function nodeAt(px, py) {
    var list = hits.get(hitKey(Math.floor(px / HIT), Math.floor(py / HIT))) || [];
    var best = -1, bestD = Infinity, disk = -1, diskD = Infinity;
    for (var i = 0; i < list.length; i++) {
      var s = list[i], dx = s[0] - px, dy = s[1] - py, dd = Math.sqrt(dx * dx + dy * dy);
      if (s[5]) { if (dd <= s[2] && dd < diskD) { disk = s[3]; diskD = dd; } }
      else if (dd <= s[2] + 3 && dd < bestD) { best = s[3]; bestD = dd; }
    }
    return best >= 0 ? best : disk;
  }

  // -- drawing ---------------------------------------------------------------------------
  // Fonts by kind (org, root, model, "+N" node), then a closed disk's name, large and small.
  var FONT = ["700 20px system-ui, sans-serif", "600 12.5px system-ui, sans-serif",
              "11px system-ui, sans-serif", "italic 11px system-ui, sans-serif",
              "600 12px system-ui, sans-serif", "600 10px system-ui, sans-serif"];
  var FONT_PX = [20, 12.5, 11, 11, 12, 10];
  var widths = new Map();
  function textWidth(text, font) {
    var key = font + "\u0000" + text, w = widths.get(key);
    if (w === undefined) { ctx2d.font = FONT[font]; w = ctx2d.measureText(text).width; widths.set(key, w); }
    return w;
  }
  function labelOf(k) {
    if (KIND[k] === 3) return month < lastMonth ? "+" + fmt.format(now[k]) + " " + N.relation[k] : N.label[k];
    if (SHOW[k] === 2) return N.label[k] + " · " + fmt.format(now[k]);
    return N.label[k];
  }
  function starPath(path, x, y, r) {
    for (var i = 0; i < 10; i++) {
      var a = -Math.PI / 2 + i * Math.PI / 5, rr = i % 2 ? r * 0.45 : r;
      if (i === 0) path.moveTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
      else path.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
    }
    path.closePath();
  }
  function hexPath(path, x, y, r) {
    for (var i = 0; i < 6; i++) {
      var a = -Math.PI / 2 + i * Math.PI / 3;
      if (i === 0) path.moveTo(x + r * Math.cos(a), y + r * Math.sin(a));
      else path.lineTo(x + r * Math.cos(a), y + r * Math.sin(a));
    }
    path.closePath();
  }
  function tint(hex, alpha) {
    var v = parseInt(hex.slice(1), 16);
    return "rgba(" + (v >> 16) + "," + ((v >> 8) & 255) + "," + (v & 255) + "," + alpha + ")";
  }
  function dimmed(k) { return inFocus !== null && !inFocus[k]; }

  function draw() {
    frame.seq++;
    computeShow();
    ctx2d.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx2d.fillStyle = "#ffffff";
    ctx2d.fillRect(0, 0, width, height);
    var margin = 40;
    function onScreen(x, y, r) { return x + r > -margin && x - r < width + margin && y + r > -margin && y - r < height + margin; }
    var k, x, y, r;

    // Open sub-families: a faint disk each, so nesting shows who builds on whom.
    for (k = 0; k < count; k++) {
      if (SHOW[k] !== 1 || !OPEN[k] || !(DR[k] > 0) || k === singleTop) continue;
      x = DX[k] * view.s + view.tx; y = DY[k] * view.s + view.ty; r = DR[k] * view.s;
      if (r < 2 || !onScreen(x, y, r)) continue;
      ctx2d.beginPath();
      ctx2d.arc(x, y, r, 0, 2 * Math.PI);
      ctx2d.fillStyle = dimmed(k) ? "rgba(134,142,150,0.015)" : "rgba(134,142,150,0.04)";
      ctx2d.fill();
      ctx2d.lineWidth = 1;
      ctx2d.strokeStyle = dimmed(k) ? "rgba(134,142,150,0.1)" : "rgba(134,142,150,0.35)";
      ctx2d.stroke();
    }

    // Edges between the nodes drawn, batched by look: relation (or inferred lineage) x
    // tree/cross x dimmed. Not to a closed disk: it sits in its parent's disk, its outline
    // in the colour of its relation, and a fan of lines to hundreds of disks says nothing.
    var buckets = new Map(), drawnEdges = 0, styles = [0, 0, 0, 0, 0];
    for (var e = 0; e < edgeCount; e++) {
      var a = EFROM[e], b = ETO[e];
      if (!SHOW[a] || !SHOW[b] || (SHOW[b] === 2 && KIND[b] !== 3) || SHOW[a] === 2) continue;
      var ax = sx(a), ay = sy(a), bx = sx(b), by = sy(b);
      if (Math.max(ax, bx) < -margin || Math.min(ax, bx) > width + margin ||
          Math.max(ay, by) < -margin || Math.min(ay, by) > height + margin) continue;
      var dim = inFocus !== null && !(inFocus[a] && inFocus[b]);
      var bk = ESTYLE[e] * 4 + (E.tree[e] ? 0 : 2) + (dim ? 1 : 0);
      styles[ESTYLE[e]]++;
      var path = buckets.get(bk);
      if (!path) buckets.set(bk, path = new Path2D());
      path.moveTo(ax, ay);
      path.lineTo(bx, by);
      drawnEdges++;
    }
    var thick = view.s > 1.5 ? 1.4 : 1;
    buckets.forEach(function (path, bk) {
      var st = bk >> 2, cross = (bk & 2) !== 0, dim = (bk & 1) !== 0;
      var colour = st === 4 ? style.inferred_lineage.color : style.relation_colors[RELATIONS[st]];
      var dashes = st === 4 ? style.inferred_lineage.dashes : style.relation_dashes[RELATIONS[st]];
      ctx2d.globalAlpha = dim ? 0.07 : cross ? (view.s < 0.3 ? 0.12 : 0.3) : st === 4 ? 0.9 : 0.55;
      ctx2d.strokeStyle = colour;
      ctx2d.lineWidth = (cross ? 0.8 : thick) * (st === 4 ? 1.3 : 1);
      ctx2d.setLineDash(dashes || []);
      ctx2d.stroke(path);
    });
    ctx2d.setLineDash([]);
    ctx2d.globalAlpha = 1;

    // Closed disks (sub-families and "+N" nodes) and nodes, each shape recorded for hit
    // testing, the labels and the tests: [x, y, r, node, kind, is a disk].
    var shapes = [], fills = new Map(), painted = 0, models = 0, groups = 0, groupModels = 0, closed = 0, atoms = 0;
    var special = [];
    for (k = 0; k < count; k++) {
      if (!present[k]) continue;
      if (KIND[k] === 3) { groups++; groupModels += now[k]; } else if (KIND[k] !== 0) models++;
      if (!SHOW[k]) continue;
      if (SHOW[k] === 2) {
        x = DX[k] * view.s + view.tx; y = DY[k] * view.s + view.ty; r = diskRadius(k);
        if (!onScreen(x, y, r) || r <= 0) continue;
        painted++; closed++;
        shapes.push([x, y, r, k, KIND[k] === 3 ? "group" : "disk", 1]);
        special.push(k);
        continue;
      }
      x = sx(k); y = sy(k); r = shapeRadius(k);
      if (!onScreen(x, y, r)) continue;
      painted++;
      if (KIND[k] === 2) atoms++;
      shapes.push([x, y, r, k, N.kind[k], 0]);
      if (KIND[k] !== 2 || N.status[k] === "missing" || N.status[k] === "unresolved" || N.connector[k] || k === focus) {
        special.push(k);
        continue;
      }
      var fk = N.color[k] + (dimmed(k) ? "d" : "");
      var p = fills.get(fk);
      if (!p) fills.set(fk, p = new Path2D());
      p.moveTo(x + r, y);
      p.arc(x, y, r, 0, 2 * Math.PI);
    }
    fills.forEach(function (path, fk) {
      var dim = fk.length > 7;
      ctx2d.globalAlpha = dim ? 0.13 : 1;
      ctx2d.fillStyle = fk.slice(0, 7);
      ctx2d.fill(path);
      if (!dim && view.s > 0.5) {
        ctx2d.lineWidth = 0.6;
        ctx2d.strokeStyle = "rgba(0,0,0,0.25)";
        ctx2d.stroke(path);
      }
    });
    ctx2d.globalAlpha = 1;
    // Disks first (biggest first), then roots, then the organization on top.
    special.sort(function (a, b) { return (SHOW[b] === 2) - (SHOW[a] === 2) || (SHOW[a] === 2 ? DR[b] - DR[a] : KIND[b] - KIND[a]); });
    special.forEach(function (k) {
      var kind = KIND[k], path = new Path2D(), x, y, r;
      ctx2d.globalAlpha = dimmed(k) ? 0.15 : N.connector[k] ? 0.45 : 1;
      if (SHOW[k] === 2) {
        x = DX[k] * view.s + view.tx; y = DY[k] * view.s + view.ty; r = diskRadius(k);
        if (kind === 3) {
          hexPath(path, x, y, r);
          ctx2d.fillStyle = "#f1f3f5";
          ctx2d.fill(path);
          ctx2d.lineWidth = Math.max(1, Math.min(3, r / 6));
          ctx2d.strokeStyle = N.color[k];
          ctx2d.stroke(path);
        } else {
          path.arc(x, y, r, 0, 2 * Math.PI);
          ctx2d.fillStyle = tint(N.color[k], 0.3);
          ctx2d.fill(path);
          // Its outline: what it holds, by relation, clockwise from the top.
          var desc = N.desc[k] || [0, 0, 0, 0], all = desc[0] + desc[1] + desc[2] + desc[3];
          var lw = Math.max(1.2, Math.min(4, r / 8)), at = -Math.PI / 2;
          ctx2d.lineWidth = lw;
          for (var j = 0; j < 4; j++) {
            if (!desc[j]) continue;
            var sweep = 2 * Math.PI * desc[j] / all;
            ctx2d.beginPath();
            ctx2d.arc(x, y, r - lw / 2, at, at + sweep);
            ctx2d.strokeStyle = style.relation_colors[RELATIONS[j]];
            ctx2d.stroke();
            at += sweep;
          }
          // its own model, where it sits in the disk
          var dot = new Path2D(), dr = Math.min(shapeRadius(k), r * 0.5);
          if (kind === 1) starPath(dot, sx(k), sy(k), dr); else dot.arc(sx(k), sy(k), dr, 0, 2 * Math.PI);
          ctx2d.fillStyle = N.color[k];
          ctx2d.fill(dot);
        }
        return;
      }
      x = sx(k); y = sy(k); r = shapeRadius(k);
      if (kind === 1) {
        starPath(path, x, y, r);
        ctx2d.fillStyle = N.color[k];
        ctx2d.fill(path);
        ctx2d.lineWidth = r > 6 ? 1.5 : 1;
        ctx2d.strokeStyle = "#111111";
        ctx2d.stroke(path);
      } else if (kind === 0) {
        path.arc(x, y, r, 0, 2 * Math.PI);
        ctx2d.fillStyle = "#ffffff";
        ctx2d.fill(path);
        ctx2d.lineWidth = 3;
        ctx2d.strokeStyle = N.color[k];
        ctx2d.stroke(path);
      } else {
        path.arc(x, y, r, 0, 2 * Math.PI);
        var hollow = N.status[k] === "missing" || N.status[k] === "unresolved";
        ctx2d.fillStyle = hollow ? "#ffffff" : N.color[k];
        ctx2d.fill(path);
        ctx2d.lineWidth = hollow ? 1.5 : 0.6;
        ctx2d.strokeStyle = hollow ? "#868e96" : "rgba(0,0,0,0.25)";
        if (hollow) ctx2d.setLineDash([3, 2]);
        ctx2d.stroke(path);
        ctx2d.setLineDash([]);
      }
    });
    ctx2d.globalAlpha = 1;
    indexShapes(shapes);
    if (focus >= 0 && SHOW[focus]) ring(focus, "#1864ab", 2.5);
    if (hover >= 0 && SHOW[hover] && hover !== focus) ring(hover, "#495057", 1.5);

    frame.labels = placeLabels(shapes);
    frame.nodes = shapes.map(function (s) { return s.slice(0, 5); });
    frame.models = models; frame.groups = groups; frame.groupModels = groupModels;
    frame.painted = painted; frame.edges = drawnEdges; frame.month = month;
    frame.closed = closed; frame.atoms = atoms;
    frame.scale = view.s; frame.styles = styles; frame.focus = focus;
    frame.focused = inFocus === null ? 0 : inFocus.reduce(function (a, b) { return a + b; }, 0);
  }
  function ring(k, colour, w) {
    var disk = SHOW[k] === 2, x = disk ? DX[k] * view.s + view.tx : sx(k), y = disk ? DY[k] * view.s + view.ty : sy(k);
    ctx2d.beginPath();
    ctx2d.arc(x, y, (disk ? diskRadius(k) : shapeRadius(k)) + 3, 0, 2 * Math.PI);
    ctx2d.lineWidth = w;
    ctx2d.strokeStyle = colour;
    ctx2d.stroke();
  }

  // -- labels: greedy, by priority, never over another label or another node --------------
  // Candidates come in priority order (the organization, then the biggest families and
  // subtrees); how far down the list to go grows with the zoom. A node's label goes beside
  // it (the side facing away from its family's centre first), a closed disk's inside it if
  // it fits; a label is placed only where it covers no label placed before it and no node
  // drawn but its own, and says something no other label says. So every label on the
  // canvas is readable and names one node, and zooming in makes room for more.
  // A name in lines of at most ``width`` pixels, broken after "/" and "-" (never inside a
  // part, so the lines read back as the name).
  function wrap(name, width, font) {
    var parts = name.match(/[^/-]+[/-]?|[/-]/g) || [name], lines = [], line = "";
    parts.forEach(function (part) {
      if (line && textWidth(line + part, font) > width) { lines.push(line); line = part; }
      else line += part;
    });
    if (line) lines.push(line);
    return lines;
  }
  function placeLabels(shapes) {
    var LCELL = 64, boxes = new Map(), circles = new Map(), texts = new Set();
    function each(x, y, w, h, fn) {
      for (var c = Math.floor(x / LCELL); c <= Math.floor((x + w) / LCELL); c++)
        for (var r = Math.floor(y / LCELL); r <= Math.floor((y + h) / LCELL); r++)
          if (fn(c * 100003 + r)) return true;
      return false;
    }
    shapes.forEach(function (s) {
      each(s[0] - s[2], s[1] - s[2], 2 * s[2], 2 * s[2], function (key) {
        var list = circles.get(key);
        if (!list) circles.set(key, list = []);
        list.push(s);
        return false;
      });
    });
    function free(x, y, w, h, own) {
      if (x < 2 || y < 2 || x + w > width - 2 || y + h > height - 2) return false;
      return !each(x, y, w, h, function (key) {
        var list = boxes.get(key), i;
        if (list) for (i = 0; i < list.length; i++) {
          var b = list[i];
          if (x < b[0] + b[2] + 2 && b[0] < x + w + 2 && y < b[1] + b[3] + 1 && b[1] < y + h + 1) return true;
        }
        list = circles.get(key);
        if (list) for (i = 0; i < list.length; i++) {
          var s = list[i];
          if (s[3] === own) continue;
          var nx = Math.min(Math.max(s[0], x), x + w), ny = Math.min(Math.max(s[1], y), y + h);
          var dx = s[0] - nx, dy = s[1] - ny;
          if (dx * dx + dy * dy < (s[2] + 1) * (s[2] + 1)) return true;
        }
        return false;
      });
    }
    function occupy(b) {
      each(b[0], b[1], b[2], b[3], function (key) {
        var list = boxes.get(key);
        if (!list) boxes.set(key, list = []);
        list.push(b);
        return false;
      });
    }
    var budget = Math.max(40, Math.round(width * height / 2500));
    // The most important first: about 60 candidates on the whole tree, four times as many
    // at twice the zoom, every node once neighbours are 7 px apart.
    var eligible = inFocus !== null ? count : Math.round(60 * Math.pow(Math.max(1, view.s / fitScale), 2));
    var spread = view.s * SP;
    var drawnLabels = [];
    for (var i = 0; i < count && drawnLabels.length < budget; i++) {
      var k = ORDER[i];
      if (i >= eligible && spread < 7) break;
      if (!SHOW[k] || (inFocus !== null && !inFocus[k])) continue;
      var disk = SHOW[k] === 2, kind = KIND[k], font = disk && kind !== 3 ? 4 : kind;
      var x = disk ? DX[k] * view.s + view.tx : sx(k), y = disk ? DY[k] * view.s + view.ty : sy(k);
      var r = disk ? diskRadius(k) : shapeRadius(k);
      if (x < -r || y < -r || x > width + r || y > height + r) continue;
      var text = labelOf(k);
      if (texts.has(text)) {
        // one label, one node: say whose it is, or leave it out
        text = kind === 3 ? text + " of " + N.label[PARENT[k]] : N.id[k] || text;
        if (texts.has(text)) continue;
      }
      // Inside a closed disk, if it fits: its name over its size, in two lines.
      var tries = [];
      if (disk && kind !== 3) {
        var second = fmt.format(now[k]) + " models", name = N.label[k];
        var layouts = [[[name, 4], [second, 5]], [[name, 5], [second, 5]]];
        var wrapped = wrap(name, 1.7 * r - 8, 5);
        if (wrapped.length > 1 && wrapped.length <= 4) {
          layouts.push(wrapped.map(function (line) { return [line, 5]; }).concat([[second, 5]]));
        }
        layouts.forEach(function (lines) {
          var lw = 0, lh = 2;
          lines.forEach(function (l) { lw = Math.max(lw, textWidth(l[0], l[1])); lh += FONT_PX[l[1]] + 2.5; });
          if (lw <= 1.7 * r - 8 && lh <= 1.3 * r) tries.push([x - lw / 2, y - lh / 2, lw, lh, lines]);
        });
      }
      var w = textWidth(text, font), h = FONT_PX[font] + 3;
      if (kind === 3 && w <= 1.6 * r - 6 && h <= r) tries.push([x - w / 2, y - h / 2, w, h, [[text, font]]]);
      if (kind === 0) tries.push([x - w / 2, y - h / 2, w, h, [[text, font]]]);
      else {
        var cx, cy;
        if (kind === 1) { cx = orgNode >= 0 ? sx(orgNode) : x - 1; cy = orgNode >= 0 ? sy(orgNode) : y; }
        else if (TOP[k] >= 0) { cx = sx(TOP[k]); cy = sy(TOP[k]); }
        else { cx = x - 1; cy = y; }
        var right = [x + r + 3, y - h / 2], left = [x - r - 3 - w, y - h / 2];
        var below = [x - w / 2, y + r + 2], above = [x - w / 2, y - r - 2 - h];
        var spots = kind === 1 ? [below, above, right, left] : x >= cx ? [right, left, below, above] : [left, right, below, above];
        if (kind !== 1 && Math.abs(y - cy) > Math.abs(x - cx) * 2) spots = y >= cy ? [below, right, left, above] : [above, right, left, below];
        spots.forEach(function (p) { tries.push([p[0], p[1], w, h, [[text, font]]]); });
        if (k === singleTop && DR[k] > 0) {
          // The tree's own root, crowded by its derivatives: its name just outside the
          // tree, above or below it, with a leader line.
          var rim = DR[k] * view.s, cyk = DY[k] * view.s + view.ty;
          tries.push([x - w / 2, cyk - rim - h - 6, w, h, [[text, font]], true]);
          tries.push([x - w / 2, cyk + rim + 6, w, h, [[text, font]], true]);
        }
      }
      for (var j = 0; j < tries.length; j++) {
        var t = tries[j];
        if (free(t[0], t[1], t[2], t[3], k)) {
          var box = [t[0], t[1], t[2], t[3], k, text, t[4], t[5] ? [x, y, r] : null];
          occupy(box);
          texts.add(text);
          drawnLabels.push(box);
          break;
        }
      }
    }
    ctx2d.textBaseline = "middle";
    ctx2d.lineJoin = "round";
    var placed = [];
    for (i = 0; i < drawnLabels.length; i++) {
      var b = drawnLabels[i], lines = b[6], top = b[1];
      if (b[7]) {  // a leader line from the label to its node
        var lead = b[7], ly = b[1] > lead[1] ? b[1] : b[1] + b[3];
        ctx2d.beginPath();
        ctx2d.moveTo(b[0] + b[2] / 2, ly);
        ctx2d.lineTo(lead[0], lead[1] + (b[1] > lead[1] ? lead[2] : -lead[2]));
        ctx2d.lineWidth = 1;
        ctx2d.strokeStyle = "rgba(33,37,41,0.55)";
        ctx2d.setLineDash([3, 3]);
        ctx2d.stroke();
        ctx2d.setLineDash([]);
      }
      for (var li = 0; li < lines.length; li++) {
        var f = lines[li][1], lineH = lines.length > 1 ? FONT_PX[f] + 2.5 : b[3];
        if (lines.length > 1 && li === 0) top += 1;
        ctx2d.font = FONT[f];
        ctx2d.lineWidth = 3;
        ctx2d.strokeStyle = "rgba(255,255,255,0.92)";
        var lx = lines.length > 1 ? b[0] + (b[2] - textWidth(lines[li][0], f)) / 2 : b[0];
        ctx2d.strokeText(lines[li][0], lx, top + lineH / 2);
        ctx2d.fillStyle = f === 3 ? "#495057" : f === 2 ? "#343a40" : f === 5 && li > 0 ? "#343a40" : "#111111";
        ctx2d.fillText(lines[li][0], lx, top + lineH / 2);
        top += lineH;
      }
      placed.push(b.slice(0, 6));
    }
    return placed;
  }

  var pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; draw(); });
  }

  function resize() {
    var box = stage.getBoundingClientRect();
    var w = Math.max(1, Math.round(box.width)), h = Math.max(1, Math.round(box.height));
    dpr = window.devicePixelRatio || 1;
    if (w === width && h === height && canvas.width === Math.round(w * dpr)) return false;
    var cxw = width ? (width / 2 - view.tx) / view.s : null, cyw = height ? (height / 2 - view.ty) / view.s : null;
    width = w; height = h;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    if (cxw !== null) { view.tx = w / 2 - cxw * view.s; view.ty = h / 2 - cyw * view.s; }
    return true;
  }

  // -- the details panel -----------------------------------------------------------------
  var details = byId("details");
  function row(box, label, value, cls) {
    var div = document.createElement("div");
    if (cls) div.className = cls;
    if (label) {
      var key = document.createElement("span");
      key.className = "k";
      key.textContent = label + ": ";
      div.appendChild(key);
    }
    if (value instanceof Node) div.appendChild(value);
    else div.appendChild(document.createTextNode(String(value)));
    box.appendChild(div);
    return div;
  }
  function hubLink(url, text) {
    // Only links to pages on the Hub; anything else stays text.
    if (typeof url !== "string" || url.indexOf(HUB) !== 0) return document.createTextNode(text);
    var a = document.createElement("a");
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = text;
    return a;
  }
  function pick(k, text) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "pick";
    b.textContent = text;
    b.addEventListener("click", function () { focusOn(k); });
    return b;
  }
  function number(v) { return v === null || v === undefined ? "unknown" : fmt.format(v); }
  function heading(box, text) {
    var h = document.createElement("h2");
    h.textContent = text;
    box.appendChild(h);
  }
  function descendantsRow(box, desc) {
    if (!desc) return;
    var total = desc.reduce(function (a, b) { return a + b; }, 0);
    var parts = [];
    RELATIONS.forEach(function (r, j) { if (desc[j]) parts.push(r + " " + fmt.format(desc[j])); });
    row(box, "descendants", total ? fmt.format(total) + " (" + parts.join(" · ") + ")" : "none");
    if (!total) return;
    var bar = document.createElement("div");
    bar.className = "bar";
    bar.setAttribute("aria-hidden", "true");
    RELATIONS.forEach(function (r, j) {
      if (!desc[j]) return;
      var seg = document.createElement("span");
      seg.style.width = (100 * desc[j] / total).toFixed(2) + "%";
      seg.style.background = style.relation_colors[r];
      bar.appendChild(seg);
    });
    box.appendChild(bar);
  }
  function showDetails(k) {
    details.replaceChildren();
    if (k < 0) return overview();
    var kind = KIND[k];
    if (kind === 3) {
      var g = N.group[k];
      heading(details, N.label[k]);
      var below = g.models - g.children;
      row(details, null, fmt.format(g.children) + " " + N.relation[k] + " derivative" +
        (g.children === 1 ? "" : "s") + " of " + g.parent + " collapsed here" +
        (below > 0 ? ", with " + fmt.format(below) + " more models derived from them" : ""));
      if (g.months.length && months.length) {
        row(details, "created", months[g.months[0][0]] + " to " + months[g.months[g.months.length - 1][0]]);
        if (month < lastMonth) row(details, "by the end of " + months[month], fmt.format(now[k]) + " of them");
      }
      row(details, null, "Top by all-time downloads:", "k");
      var ol = document.createElement("ol");
      g.top.forEach(function (t) {
        var li = document.createElement("li");
        li.appendChild(hubLink(t[2], t[0]));
        li.appendChild(document.createTextNode(" (" + fmt.format(t[1]) + ")"));
        ol.appendChild(li);
      });
      details.appendChild(ol);
      if (g.children > g.top.length) row(details, null, "and " + fmt.format(g.children - g.top.length) + " more", "note");
      return;
    }
    heading(details, N.id[k]);
    if (kind === 0) {
      row(details, null, "the organization: its " + fmt.format(LAY.tops.length) + " models that derive from none of its others, each with its family", "note");
      row(details, "region", N.region[k] || "unknown");
      row(details, "family", fmt.format(meta.models) + " models (" + fmt.format(LAY.tops.length) + " roots)");
      descendantsRow(details, N.desc[k]);
      if (N.url[k]) row(details, null, hubLink(N.url[k], "Open the organization on the Hub ↗"));
      return;
    }
    if (kind === 1) {
      row(details, null, "root of this tree", "note");
    } else {
      var rel = N.relation[k] + " of ";
      var line = row(details, N.lineage[k] ? "inferred lineage" : "relation", "");
      line.appendChild(document.createTextNode(rel));
      line.appendChild(pick(N.parent[k], N.id[N.parent[k]]));
      if (N.inferred[k]) line.appendChild(document.createTextNode(" (relation word inferred)"));
      if (N.lineage[k]) {
        var how = "no parent declared; proposed by " + N.lineage[k];
        if (N.confidence[k] !== null && N.confidence[k] !== undefined) how += ", confidence " + N.confidence[k].toFixed(2);
        row(details, null, how, "note");
      }
    }
    if (STATUS_NOTE[N.status[k]]) row(details, null, STATUS_NOTE[N.status[k]], "note");
    row(details, "created", N.created[k] || "unknown");
    row(details, "downloads", number(N.downloads[k]) + " last 30 days · " + number(N.downloads_all_time[k]) + " all time");
    row(details, "likes", number(N.likes[k]));
    row(details, "organization", (N.org[k] === null ? "none" : N.org[k]) + " · region: " + N.region[k]);
    descendantsRow(details, N.desc[k]);
    if (SHOW[k] === 2) row(details, null, "drawn as one disk of its " + fmt.format(now[k]) + " models until there is room: zoom in, or click it, to open it", "note");
    if (N.pipeline[k]) row(details, "pipeline", N.pipeline[k]);
    if (N.library[k]) row(details, "library", N.library[k]);
    if (N.roots[k] && kind !== 1) row(details, "root famil" + (N.roots[k].length === 1 ? "y" : "ies"), N.roots[k].join(", "));
    if (N.parents_not_drawn[k]) row(details, kind === 1 ? "derives from" : "also derives from (not drawn)", N.parents_not_drawn[k].join(", "));
    if (N.connector[k]) row(details, null, "below --min-downloads; drawn to connect the models derived from it", "note");
    if (N.url[k]) row(details, null, hubLink(N.url[k], "Open on the Hub ↗"));
  }
  function overview() {
    heading(details, meta.title);
    if (month >= 0 && month < lastMonth) {
      row(details, "at the end of " + months[month], fmt.format(meta.counts.total[month]) + " of these models existed; move the slider to the right for the rest");
    }
    row(details, null, fmt.format(meta.models) + " models: " + fmt.format(meta.tops.length) + " root" +
      (meta.tops.length === 1 ? "" : "s") + " and " + fmt.format(meta.models - meta.tops.length) + " derivatives" +
      (meta.collapsed ? "; " + fmt.format(meta.collapsed) + " of them inside +N nodes" : ""));
    var tops = LAY.tops.slice().sort(function (a, b) { return WEIGHT[b] - WEIGHT[a] || a - b; }).slice(0, 12);
    if (tops.length > 1) {
      row(details, null, "Biggest families (click to focus):", "k");
      var ol = document.createElement("ol");
      tops.forEach(function (t) {
        var li = document.createElement("li");
        li.appendChild(pick(t, N.id[t]));
        li.appendChild(document.createTextNode(" " + fmt.format(WEIGHT[t] - 1)));
        ol.appendChild(li);
      });
      details.appendChild(ol);
    } else if (tops.length === 1) {
      descendantsRow(details, N.desc[tops[0]]);
    }
    row(details, null, "Click a model, or find one by name, for its details.", "note");
  }

  // -- hover card ------------------------------------------------------------------------
  var tip = byId("tip");
  function showTip(k, px, py) {
    tip.replaceChildren();
    row(tip, null, KIND[k] === 3 ? labelOf(k) + " under " + N.group[k].parent : N.id[k], "name");
    if (KIND[k] === 2) row(tip, null, (N.lineage[k] ? "inferred lineage: " : "") + N.relation[k] + " of " + N.id[N.parent[k]]);
    if (KIND[k] <= 2 && N.created[k]) row(tip, null, "created " + N.created[k] + " · " + number(N.downloads_all_time[k]) + " downloads");
    tip.hidden = false;
    var x = px + 14, y = py + 14;
    if (x + tip.offsetWidth > width) x = Math.max(0, px - tip.offsetWidth - 14);
    if (y + tip.offsetHeight > height) y = Math.max(0, py - tip.offsetHeight - 14);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  function hideTip() { tip.hidden = true; }

  // -- focus: a model's path to the root and everything below it --------------------------
  var crumbs = byId("crumbs"), backButton = byId("back");
  function pathToTop(k) {
    var path = [];
    for (var up = k; up >= 0; up = PARENT[up]) path.push(up);
    return path.reverse();
  }
  function setFocus(k) {
    focus = k;
    forced.fill(0);
    if (k >= 0) pathToTop(k).forEach(function (up) { forced[up] = 1; });  // open down to it
    if (k < 0 || k === orgNode) {
      inFocus = null;
    } else {
      inFocus = new Uint8Array(count);
      pathToTop(k).forEach(function (up) { inFocus[up] = 1; });
      var stack = [k];
      while (stack.length) {
        var v = stack.pop();
        inFocus[v] = 1;
        var ch = childrenOf(v);
        for (var i = 0; i < ch.length; i++) stack.push(ch[i]);
      }
    }
    document.body.dataset.focus = k >= 0 ? String(k) : "";
    renderCrumbs();
    showDetails(k);
  }
  function renderCrumbs() {
    crumbs.replaceChildren();
    var all = document.createElement("button");
    all.type = "button";
    all.textContent = orgNode >= 0 ? "All of " + N.label[orgNode] : "Whole tree";
    all.addEventListener("click", function () { if (focus >= 0) focusOn(-1); });
    if (focus < 0) all.setAttribute("aria-current", "true");
    crumbs.appendChild(all);
    if (focus < 0) return;
    pathToTop(focus).forEach(function (k) {
      if (k === orgNode) return;
      var sep = document.createElement("span");
      sep.className = "sep";
      sep.textContent = "›";
      sep.setAttribute("aria-hidden", "true");
      crumbs.appendChild(sep);
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = KIND[k] === 3 ? labelOf(k) : N.id[k];
      if (k === focus) b.setAttribute("aria-current", "true");
      else b.addEventListener("click", function () { focusOn(k); });
      crumbs.appendChild(b);
    });
  }
  // Focusing frames the node's own subtree: its disk (a sub-family, a "+N" node), or the
  // model and its neighbours.
  function fitFocus(k) {
    if (k < 0 || k === orgNode) { fitAll(); return; }
    var margin = SP / 2;
    if (DR[k] > 0) fitBox(DX[k] - DR[k] - margin, DY[k] - DR[k] - margin, DX[k] + DR[k] + margin, DY[k] + DR[k] + margin, 2.5);
    else fitBox(X[k] - 4 * SP, Y[k] - 4 * SP, X[k] + 4 * SP, Y[k] + 4 * SP, 2.5);
  }
  function snapshot() { return { focus: focus, s: view.s, tx: view.tx, ty: view.ty }; }
  function focusOn(k, keepView) {
    if (!keepView) { hover = -1; hideTip(); }  // the view moves from under the pointer
    history.push(snapshot());
    backButton.disabled = false;
    setFocus(k);
    if (!keepView) fitFocus(k);
    redraw();
  }
  function back() {
    if (!history.length) return false;
    hover = -1;
    hideTip();
    var prev = history.pop();
    setFocus(prev.focus);
    view.s = prev.s; view.tx = prev.tx; view.ty = prev.ty;
    backButton.disabled = history.length === 0;
    redraw();
    return true;
  }
  backButton.addEventListener("click", back);
  byId("fit").addEventListener("click", function () { fitAll(); redraw(); });

  // -- mouse and keyboard on the canvas ----------------------------------------------------
  var drag = null;
  function local(ev) {
    var box = canvas.getBoundingClientRect();
    return [ev.clientX - box.left, ev.clientY - box.top];
  }
  canvas.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0) return;
    var p = local(ev);
    drag = { x: p[0], y: p[1], tx: view.tx, ty: view.ty, moved: false, id: ev.pointerId };
    canvas.setPointerCapture(ev.pointerId);
  });
  canvas.addEventListener("pointermove", function (ev) {
    var p = local(ev);
    if (drag) {
      var dx = p[0] - drag.x, dy = p[1] - drag.y;
      if (!drag.moved && dx * dx + dy * dy > 16) { drag.moved = true; canvas.classList.add("dragging"); hideTip(); }
      if (drag.moved) { view.tx = drag.tx + dx; view.ty = drag.ty + dy; redraw(); }
      return;
    }
    var k = nodeAt(p[0], p[1]);
    if (k !== hover) { hover = k; redraw(); }
    canvas.classList.toggle("pointing", k >= 0);
    if (k >= 0) showTip(k, p[0], p[1]); else hideTip();
  });
  canvas.addEventListener("pointerup", function (ev) {
    if (!drag) return;
    var moved = drag.moved;
    drag = null;
    canvas.classList.remove("dragging");
    if (moved) return;
    var p = local(ev), k = nodeAt(p[0], p[1]);
    if (k >= 0) focusOn(k, SHOW[k] !== 2 || KIND[k] === 3);  // a closed sub-family: open it

    else if (focus >= 0) focusOn(-1, true);
  });
  canvas.addEventListener("pointerleave", function () { hover = -1; hideTip(); redraw(); });
  canvas.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var p = local(ev);
    hideTip();
    zoomAt(p[0], p[1], Math.exp(-ev.deltaY * (ev.deltaMode === 1 ? 0.05 : 0.0015)));
  }, { passive: false });
  canvas.addEventListener("dblclick", function (ev) { var p = local(ev); zoomAt(p[0], p[1], 2); });

  function moveFocus(key) {
    if (focus < 0) return false;
    var target = -1;
    if (key === "ArrowUp") target = PARENT[focus];
    else if (key === "ArrowDown") {
      var ch = childrenOf(focus), best = -1;
      for (var i = 0; i < ch.length; i++) if (present[ch[i]] && (best < 0 || N.rank[ch[i]] < N.rank[best])) best = ch[i];
      target = best;
    } else {
      var p = PARENT[focus];
      if (p < 0) return true;
      var sib = Array.prototype.filter.call(childrenOf(p), function (s) { return present[s]; });
      var at = sib.indexOf(focus);
      target = sib[(at + (key === "ArrowRight" ? 1 : sib.length - 1)) % sib.length];
    }
    if (target >= 0 && target !== focus) focusOn(target);
    return true;
  }
  canvas.addEventListener("keydown", function (ev) {
    var key = ev.key, step = 80;
    // The keyboard moves the view or the focus: a hover card would point at the wrong node.
    if (key.indexOf("Arrow") === 0 || "+=-_0".indexOf(key) >= 0 || key === "Escape" || key === "Backspace") {
      hover = -1;
      hideTip();
    }
    if (key.indexOf("Arrow") === 0) {
      if (!moveFocus(key)) {
        if (key === "ArrowLeft") view.tx += step;
        if (key === "ArrowRight") view.tx -= step;
        if (key === "ArrowUp") view.ty += step;
        if (key === "ArrowDown") view.ty -= step;
        redraw();
      }
    } else if (key === "+" || key === "=") zoomAt(width / 2, height / 2, 1.4);
    else if (key === "-" || key === "_") zoomAt(width / 2, height / 2, 1 / 1.4);
    else if (key === "0") { fitAll(); redraw(); }
    else if (key === "Escape" || key === "Backspace") back();
    else return;
    ev.preventDefault();
  });
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA");
    if (ev.key === "/" && !typing) { ev.preventDefault(); find.focus(); find.select(); }
    else if (ev.key === "Escape" && !typing && t !== canvas) back();
  });

  // -- find ------------------------------------------------------------------------------
  // Any part of an id: the models on the page (whether drawn or inside a closed disk), and
  // the models inside "+N" nodes, which the page lists by id: a match there names the
  // node that holds it, and choosing it focuses that node.
  var find = byId("find"), matchList = byId("matches"), status = byId("find-status");
  var matches = [], active = -1, cycle = -1, lastQuery = null;
  var HIDDEN_SHOWN = 500;  // hidden matches kept per query
  function hiddenId(line) {
    var end = line + 1 < hiddenStarts.length ? hiddenStarts[line + 1] - 1 : HIDDEN.ids.length;
    return HIDDEN.ids.slice(hiddenStarts[line], end);
  }
  function lineOf(pos) {
    var lo = 0, hi = hiddenStarts.length - 1;
    while (lo < hi) { var mid = (lo + hi + 1) >> 1; if (hiddenStarts[mid] <= pos) lo = mid; else hi = mid - 1; }
    return lo;
  }
  function search(q) {
    var exact = [], start = [], inside = [], hidden = [], hiddenTotal = 0;
    for (var i = 0; i < count; i++) {
      if (KIND[i] === 3) continue;
      var id = N.id[i].toLowerCase(), at = id.indexOf(q);
      if (at < 0) continue;
      var m = { k: i, id: N.id[i] };
      if (id === q) exact.push(m);
      else if (at === 0 || id.charAt(at - 1) === "/") start.push(m);
      else inside.push(m);
    }
    if (q.indexOf("\n") < 0) {
      var last = -1;
      for (var pos = hiddenText.indexOf(q); pos >= 0; pos = hiddenText.indexOf(q, pos + 1)) {
        var line = lineOf(pos);
        if (line === last) continue;
        last = line;
        hiddenTotal++;
        if (hidden.length < HIDDEN_SHOWN) hidden.push({ k: HIDDEN.node[line], id: hiddenId(line), inside: true });
      }
    }
    var byRank = function (a, b) { return N.rank[a.k] - N.rank[b.k]; };
    var found = exact.concat(start.sort(byRank), inside.sort(byRank), hidden);
    found.total = found.length - hidden.length + hiddenTotal;
    return found;
  }
  function insideText(m) { return "inside " + labelOf(m.k) + " under " + N.group[m.k].parent; }
  function showMatches() {
    matchList.replaceChildren();
    var shown = matches.slice(0, 12);
    shown.forEach(function (m, i) {
      var li = document.createElement("li");
      li.id = "match-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === active ? "true" : "false");
      li.appendChild(document.createTextNode(m.id));
      if (m.inside || !present[m.k]) {
        var note = document.createElement("span");
        note.className = "note";
        note.textContent = m.inside ? " (" + insideText(m) + ")" : " (created after " + months[month] + ")";
        li.appendChild(note);
      }
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(i); });
      matchList.appendChild(li);
    });
    matchList.hidden = shown.length === 0;
    find.setAttribute("aria-expanded", shown.length ? "true" : "false");
    if (active >= 0) find.setAttribute("aria-activedescendant", "match-" + active);
    else find.removeAttribute("aria-activedescendant");
  }
  function closeMatches() {
    matchList.hidden = true;
    find.setAttribute("aria-expanded", "false");
    find.removeAttribute("aria-activedescendant");
  }
  function choose(i) {
    var m = matches[i];
    cycle = i;
    closeMatches();
    if (!present[m.k]) setMonth(lastMonth);
    focusOn(m.k);
    status.textContent = (i + 1) + " of " + fmt.format(matches.total) + (m.inside ? ": " + m.id + " is " + insideText(m) : "");
  }
  function update() {
    var q = find.value.trim().toLowerCase();
    if (q === lastQuery) return;
    lastQuery = q;
    active = -1;
    cycle = -1;
    if (!q) { matches = []; closeMatches(); status.textContent = ""; return; }
    matches = search(q);
    status.textContent = matches.total ? fmt.format(matches.total) + " match" + (matches.total === 1 ? "" : "es") : "no such model here";
    showMatches();
  }
  find.addEventListener("input", update);
  find.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      update();
      if (!matches.length) return;
      var n = Math.min(matches.length, 12);
      active = ev.key === "ArrowDown" ? (active + 1) % n : (active + n - 1) % n;
      showMatches();
      ev.preventDefault();
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      update();
      if (!matches.length) return;
      choose(active >= 0 ? active : (cycle + 1) % matches.length);
      active = -1;
    } else if (ev.key === "Escape") {
      if (!matchList.hidden) closeMatches();
      else if (find.value) { find.value = ""; update(); }
      else back();
      ev.preventDefault();
    }
  });
  find.addEventListener("blur", function () { setTimeout(closeMatches, 0); });

  // -- the month slider ------------------------------------------------------------------
  var slider = byId("month"), monthLabel = byId("month-label"), counts = byId("counts");
  var play = byId("play"), timer = null;
  function chip(colour) {
    var c = document.createElement("span");
    c.className = "chip";
    c.style.background = colour;
    return c;
  }
  function renderCounts() {
    counts.replaceChildren();
    if (!months.length) return;
    var c = meta.counts, t = month;
    function group(label, entries) {
      var g = document.createElement("span");
      g.className = "group";
      var k = document.createElement("span");
      k.className = "k";
      k.textContent = label;
      g.appendChild(k);
      entries.forEach(function (en) {
        var s = document.createElement("span");
        if (en[2]) s.appendChild(chip(en[2]));
        s.appendChild(document.createTextNode(en[0] + " " + fmt.format(en[1])));
        g.appendChild(s);
      });
      counts.appendChild(g);
    }
    var total = document.createElement("span");
    total.id = "count-total";
    total.textContent = fmt.format(c.total[t]) + " models";
    counts.appendChild(total);
    group("by relation:", Object.keys(c.relation).map(function (r) {
      return [r === "root" ? "roots" : r, c.relation[r][t], r === "root" ? "#343a40" : style.relation_colors[r]];
    }));
    group("by builder region:", Object.keys(c.region).map(function (r) {
      return [r, c.region[r][t], style.region_colors[r]];
    }));
  }
  function setMonth(t) {
    if (!months.length) return;
    month = Math.max(0, Math.min(lastMonth, t));
    slider.value = String(month);
    monthLabel.textContent = "end of " + months[month];
    slider.setAttribute("aria-valuetext", months[month]);
    computePresent();
    renderCounts();
    showDetails(focus);
    redraw();
  }
  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "▶";
    play.setAttribute("aria-label", "Play the months");
    play.setAttribute("aria-pressed", "false");
  }
  play.addEventListener("click", function () {
    if (timer !== null) { stop(); return; }
    if (month >= lastMonth) setMonth(0);
    play.textContent = "❚❚";
    play.setAttribute("aria-label", "Pause");
    play.setAttribute("aria-pressed", "true");
    timer = setInterval(function () {
      if (month >= lastMonth) { stop(); return; }
      setMonth(month + 1);
    }, 650);
  });
  slider.addEventListener("input", function () { stop(); setMonth(parseInt(slider.value, 10)); });
  if (months.length) {
    slider.max = String(lastMonth);
    slider.disabled = play.disabled = lastMonth < 1;  // one month: nothing to replay
  } else {
    byId("timebar").hidden = true;
    month = -1;
  }

  // -- start -----------------------------------------------------------------------------
  window.lineage = {
    data: data, frame: frame,
    state: function () { return { month: month, focus: focus, scale: view.s, tx: view.tx, ty: view.ty, history: history.length }; },
    focus: function (k) { focusOn(k); }, back: back, setMonth: setMonth,
    fit: function () { fitAll(); redraw(); },
    // The node's centre in page coordinates; with scale, first centre the view on it.
    show: function (k, scale) {
      if (scale) { view.s = scale; view.tx = width / 2 - X[k] * scale; view.ty = height / 2 - Y[k] * scale; draw(); }
      var box = canvas.getBoundingClientRect();
      return [box.left + sx(k), box.top + sy(k)];
    },
    // Indices of the nodes present at the slider's month.
    present: function () { var out = []; for (var k = 0; k < count; k++) if (present[k]) out.push(k); return out; },
    nodeAt: nodeAt, draw: draw
  };
  resize();
  fitAll();
  computePresent();
  setFocus(-1);
  if (months.length) setMonth(lastMonth);
  draw();
  // Stable once the page has its final size: the observer's first call comes after the
  // first layout, and a canvas that changed size by then is fitted and drawn again.
  new ResizeObserver(function () {
    if (resize()) {
      if (document.body.dataset.state !== "stable") fitAll();
      draw();
    }
    if (document.body.dataset.state !== "stable") {
      document.body.dataset.state = "stable";
      window.lineage.stableAt = performance.now();
    }
  }).observe(stage);
})();
