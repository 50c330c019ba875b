// The family tree page: draws the nodes lineage laid out, and shows what is known about
// each one. Everything that came from the Hub is put into the page with textContent or
// as a property, never parsed as HTML; vis-network gets integer ids and canvas labels.
(function () {
  "use strict";
  var byId = function (id) { return document.getElementById(id); };
  var data = JSON.parse(byId("family-data").textContent);
  var N = data.nodes, E = data.edges, style = data.style, meta = data.meta;
  var HUB = "https://huggingface.co/";
  var count = N.kind.length;
  var big = count > 2000;
  var fmt = new Intl.NumberFormat("en-US");

  var STATUS_NOTE = {
    not_crawled: "known only as a parent here: its own derivatives were not crawled",
    missing: "not on the Hub (deleted, private or gated); declared as a parent",
    unresolved: "never looked up on the Hub; declared as a parent"
  };

  function hubLink(url, text) {
    // Only links to model pages on the Hub; anything else stays text.
    if (typeof url !== "string" || url.indexOf(HUB) !== 0) return document.createTextNode(text);
    var a = document.createElement("a");
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = text;
    return a;
  }

  function row(box, label, value, cls) {
    var div = document.createElement("div");
    if (cls) div.className = cls;
    if (label) {
      var k = document.createElement("span");
      k.className = "k";
      k.textContent = label + ": ";
      div.appendChild(k);
    }
    if (value instanceof Node) div.appendChild(value);
    else div.appendChild(document.createTextNode(String(value)));
    box.appendChild(div);
    return div;
  }

  function number(v) { return v === null || v === undefined ? "unknown" : fmt.format(v); }

  function describe(box, k, pinned) {
    box.replaceChildren();
    if (pinned) {
      var close = document.createElement("button");
      close.type = "button";
      close.className = "close";
      close.title = "Close";
      close.setAttribute("aria-label", "Close");
      close.textContent = "×";
      close.addEventListener("click", unpin);
      box.appendChild(close);
    }
    if (N.kind[k] === "group") {
      var g = N.group[k];
      row(box, null, N.label[k], "name");
      var below = g.models - g.children;
      row(box, null, fmt.format(g.children) + " " + N.relation[k] + " derivative" +
        (g.children === 1 ? "" : "s") + " of " + g.parent + " collapsed here" +
        (below > 0 ? ", with " + fmt.format(below) + " more models derived from them" : ""));
      row(box, null, "Top by all-time downloads:", "k");
      var ol = document.createElement("ol");
      g.top.forEach(function (t) {
        var li = document.createElement("li");
        li.appendChild(pinned ? hubLink(t[2], t[0]) : document.createTextNode(t[0]));
        li.appendChild(document.createTextNode(" (" + fmt.format(t[1]) + ")"));
        ol.appendChild(li);
      });
      box.appendChild(ol);
      if (g.children > g.top.length) row(box, null, "and " + fmt.format(g.children - g.top.length) + " more", "note");
      return;
    }
    row(box, null, N.id[k], "name");
    if (N.kind[k] === "root") {
      row(box, null, "root of this tree", "note");
    } else {
      var parent = N.id[N.parent[k]];
      row(box, "relation", N.relation[k] + " of " + parent + (N.inferred[k] ? " (relation inferred)" : ""));
    }
    if (STATUS_NOTE[N.status[k]]) row(box, null, STATUS_NOTE[N.status[k]], "note");
    if (N.created[k]) row(box, "created", N.created[k]);
    row(box, "downloads", number(N.downloads[k]) + " last 30 days · " + number(N.downloads_all_time[k]) + " all time");
    row(box, "likes", number(N.likes[k]));
    row(box, "organization", (N.org[k] === null ? "none" : N.org[k]) + " · region: " + N.region[k]);
    if (N.pipeline[k]) row(box, "pipeline", N.pipeline[k]);
    if (N.library[k]) row(box, "library", N.library[k]);
    if (N.roots[k] && N.kind[k] !== "root") row(box, "root famil" + (N.roots[k].length === 1 ? "y" : "ies"), N.roots[k].join(", "));
    if (N.parents_not_drawn[k]) row(box, N.kind[k] === "root" ? "derives from" : "also derives from (not drawn)", N.parents_not_drawn[k].join(", "));
    if (N.connector[k]) row(box, null, "below --min-downloads; drawn to connect the models derived from it", "note");
    if (N.url[k]) row(box, null, hubLink(N.url[k], pinned ? "Open on the Hub ↗" : N.url[k]));
    if (!pinned) row(box, null, "click to pin this card", "note");
  }

  // -- vis data -------------------------------------------------------------------------
  var nodes = new Array(count);
  for (var k = 0; k < count; k++) {
    var kind = N.kind[k];
    var node = { id: k, x: N.x[k], y: N.y[k], size: N.size[k], label: N.label[k], color: N.color[k] };
    if (kind === "root") {
      node.shape = "star";
      node.borderWidth = 2;
      node.color = { background: N.color[k], border: "#111111" };
      node.font = { size: style.root_font, strokeWidth: Math.round(style.root_font / 5), strokeColor: "#ffffff", color: "#111111" };
    } else if (kind === "group") {
      node.shape = "hexagon";
      node.borderWidth = 3;
      node.color = { background: "#f1f3f5", border: N.color[k], highlight: { background: "#ffffff", border: N.color[k] }, hover: { background: "#ffffff", border: N.color[k] } };
      node.font = { size: 14, color: "#343a40" };
    } else if (N.status[k] === "missing" || N.status[k] === "unresolved") {
      node.color = { background: "#ffffff", border: "#868e96" };
      node.borderWidth = 2;
      node.shapeProperties = { borderDashes: [3, 3] };
    }
    if (N.connector[k]) node.opacity = 0.45;
    nodes[k] = node;
  }
  var edgeCount = E.from.length;
  var edges = new Array(edgeCount);
  for (var e = 0; e < edgeCount; e++) {
    var c = style.relation_colors[E.relation[e]] || "#868e96";
    edges[e] = {
      id: e, from: E.from[e], to: E.to[e],
      // Edges to second parents (merges) cross the tree: drawn fainter than its branches.
      color: { color: c, highlight: c, hover: c, opacity: E.tree[e] ? (big ? 0.55 : 0.8) : 0.3 },
      dashes: style.relation_dashes[E.relation[e]] || false,
      width: E.tree[e] ? 1 : 0.7
    };
  }
  var nodeSet = new vis.DataSet(nodes);
  var edgeSet = new vis.DataSet(edges);
  var options = {
    autoResize: true,
    physics: false,
    layout: { improvedLayout: false, randomSeed: 1 },
    nodes: {
      shape: "dot", borderWidth: 1,
      font: { size: 12, color: "#212529", strokeWidth: 3, strokeColor: "#ffffff" },
      scaling: { label: { drawThreshold: 6 } }
    },
    edges: {
      smooth: false, selectionWidth: 1.5, hoverWidth: 0.5,
      arrows: { to: { enabled: true, scaleFactor: 0.35 } }
    },
    interaction: {
      hover: true, hideEdgesOnDrag: big, hideEdgesOnZoom: big,
      keyboard: false, multiselect: false, navigationButtons: false, zoomSpeed: 0.7
    }
  };
  var container = byId("graph");
  var network = new vis.Network(container, { nodes: nodeSet, edges: edgeSet }, options);
  window.lineage = { network: network, nodes: nodeSet, edges: edgeSet, data: data };

  // -- hover cards, pinned cards ----------------------------------------------------------
  var tip = byId("tip"), info = byId("info");
  var main = container.parentElement;
  function place(pointer) {
    var x = pointer.x + 16, y = pointer.y + 16;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > main.clientWidth) x = Math.max(0, pointer.x - w - 16);
    if (y + h > main.clientHeight) y = Math.max(0, pointer.y - h - 16);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  function hideTip() { tip.hidden = true; }
  network.on("hoverNode", function (p) {
    describe(tip, p.node, false);
    tip.hidden = false;
    place(p.pointer.DOM);
  });
  network.on("hoverEdge", function (p) {
    var i = p.edge, from = E.from[i], to = E.to[i];
    tip.replaceChildren();
    var what = N.kind[to] === "group" ? N.label[to] : N.id[to];
    row(tip, null, what, "name");
    row(tip, null, E.relation[i] + " of " + N.id[from] + (E.inferred[i] ? " (relation inferred)" : ""));
    tip.hidden = false;
    place(p.pointer.DOM);
  });
  network.on("blurNode", hideTip);
  network.on("blurEdge", hideTip);
  network.on("dragStart", hideTip);
  network.on("zoom", hideTip);

  function pin(k) {
    describe(info, k, true);
    info.hidden = false;
    hideTip();
  }
  function unpin() {
    info.hidden = true;
    network.unselectAll();
  }
  network.on("selectNode", function (p) { pin(p.nodes[0]); });
  network.on("deselectNode", function (p) { if (!p.nodes.length) info.hidden = true; });

  // -- find, fit ------------------------------------------------------------------------
  var find = byId("find"), status = byId("find-status");
  var matches = [], at = -1, last = null;
  function focus(k) {
    network.selectNodes([k]);
    network.focus(k, { scale: Math.max(network.getScale(), 1.2), animation: false });
    pin(k);
  }
  find.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter") return;
    ev.preventDefault();
    var q = find.value.trim().toLowerCase();
    if (!q) { status.textContent = ""; return; }
    if (q !== last) {
      last = q;
      at = -1;
      var exact = [], partial = [], inside = [];
      for (var i = 0; i < count; i++) {
        if (N.kind[i] === "group") {
          if (N.group[i].top.some(function (t) { return t[0].toLowerCase().indexOf(q) >= 0; })) inside.push(i);
          continue;
        }
        var id = N.id[i].toLowerCase();
        if (id === q) exact.push(i);
        else if (id.indexOf(q) >= 0) partial.push(i);
      }
      matches = exact.concat(partial, inside);
    }
    if (!matches.length) {
      status.textContent = meta.collapsed ? "not drawn; it may be inside a +N node" : "no such model here";
      return;
    }
    at = (at + 1) % matches.length;
    focus(matches[at]);
    status.textContent = (at + 1) + " of " + matches.length + (N.kind[matches[at]] === "group" ? " (collapsed)" : "");
  });
  byId("fit").addEventListener("click", function () { network.fit({ animation: false }); });

  network.fit({ animation: false });
  network.once("afterDrawing", function () {
    window.lineage.stableAt = performance.now();
    document.body.dataset.state = "stable";
  });
})();
