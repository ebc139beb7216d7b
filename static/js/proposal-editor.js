/* The selection's history, for the page's life: every change — a click on the map, Clear selection
   (both through remember()), or a server answer that took segments or removed one (its side panel
   carries data-selection-before) — is a step the Undo button or Ctrl+Z takes back (not while typing
   in a text field). It works without the map, like the side panel's Remove buttons. */
(function () {
  "use strict";
  var form = document.getElementById("proposal-form");
  var container = document.getElementById("editor-map");
  if (!form) { return; }
  var status = document.getElementById("draw-status");
  var messages = {};
  try { messages = JSON.parse((container && container.dataset.messages) || "{}"); } catch (e) { messages = {}; }
  function message(key, fallback, values) {
    return (messages[key] || fallback).replace(/\{(\w+)\}/g, function (all, name) {
      return values && name in values ? String(values[name]) : all;
    });
  }
  function assetsField() { return document.getElementById("assets-field"); }
  function changed() { if (window.htmx) { window.htmx.trigger(form, "gw-changed"); } }
  function say(text) { if (status) { status.textContent = text; } }

  // -- undo: each step is the selection before a change and what the change was --------------
  var steps = [];
  var undoButton = document.getElementById("undo-button");
  var undoSteps = document.getElementById("undo-steps");

  function showSteps() {
    if (undoButton) { undoButton.setAttribute("aria-disabled", steps.length ? "false" : "true"); }
    if (undoSteps) {
      undoSteps.textContent = steps.length === 0
        ? message("stepsNone", "Nothing to undo yet.")
        : steps.length === 1 ? message("stepsOne", "1 change can be undone (Ctrl+Z).")
          : message("stepsMany", "{count} changes can be undone (Ctrl+Z).", { count: steps.length });
    }
  }

  function remember(before, what) {
    steps.push({ value: before, what: what });
    showSteps();
  }

  function undo() {
    var step = steps.pop();
    if (!step) { say(message("nothingToUndo", "Nothing to undo.")); return; }
    assetsField().value = step.value;
    showSteps();
    say(message("undone", "Undone: {action}", { action: step.what }));
    changed();
  }

  if (undoButton) { undoButton.addEventListener("click", undo); }

  document.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey || (event.key || "").toLowerCase() !== "z") { return; }
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName) ||
      (target.tagName === "INPUT" && !/^(button|submit|reset|radio|checkbox|range|color|file|image)$/i.test(target.type)));
    if (typing) { return; } // the field's own undo
    event.preventDefault();
    undo();
  });

  document.body.addEventListener("htmx:afterSettle", function () {
    // an answer whose action changed the selection (a take, a removal) is one step, counted once
    var bench = document.getElementById("workbench");
    if (bench && bench.dataset.selectionBefore !== undefined && !bench.dataset.remembered) {
      bench.dataset.remembered = "true";
      remember(bench.dataset.selectionBefore, bench.dataset.selectionAction || "");
    }
  });
  showSteps();
  window.groundworkSelectionHistory = { remember: remember, undo: undo };
})();

/* The proposal editor's map: click assets to add or remove them, draw a line, an area or a point.
   The form's hidden fields (assets, geometry) hold the state; every change asks the server for a
   fresh side panel (selection, quantities, estimate, budget) with the "gw-changed" htmx trigger.
   Its changes to the selection go through the selection history above, so they can be undone. */
(function () {
  "use strict";
  var container = document.getElementById("editor-map");
  var form = document.getElementById("proposal-form");
  if (!container || !form || typeof maplibregl === "undefined") { return; }
  // the assets field is replaced by each server answer (hx-swap-oob), so look it up every time
  function assetsField() { return document.getElementById("assets-field"); }
  var geometryField = document.getElementById("geometry-field");
  var selectionHistory = window.groundworkSelectionHistory;
  var status = document.getElementById("draw-status");
  var LAYERS = (container.dataset.layers || "pavement").split(",");
  var CLICKABLE = [];
  var BAND_COLOURS = ["match", ["get", "band"], "good", "#1a9850", "satisfactory", "#91cf60", "fair", "#b8c94a",
    "poor", "#e0b000", "very_poor", "#fc8d59", "serious", "#d73027", "failed", "#7f0000", "#777777"];
  var mode = "select";
  var vertices = [];
  // what the status line says, in the page's language (templates/proposals/editor.html)
  var messages = {};
  try { messages = JSON.parse(container.dataset.messages || "{}"); } catch (e) { messages = {}; }
  function message(key, fallback, values) {
    return (messages[key] || fallback).replace(/\{(\w+)\}/g, function (all, name) {
      return values && name in values ? String(values[name]) : all;
    });
  }

  function bounds() {
    try { return JSON.parse(container.dataset.bounds || "null"); } catch (e) { return null; }
  }

  var map = new maplibregl.Map({
    container: container,
    style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#f3f1ec" } }] },
    bounds: bounds() || [-180, -70, 180, 70],
    fitBoundsOptions: { padding: 20 },
    attributionControl: false
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  map.doubleClickZoom.disable();

  function keys() {
    return assetsField().value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function changed() {
    if (window.htmx) { window.htmx.trigger(form, "gw-changed"); }
  }

  function say(text) { if (status) { status.textContent = text; } }

  function emptyCollection() { return { type: "FeatureCollection", features: [] }; }

  function selectionData() {
    var holder = document.getElementById("selection-data");
    if (!holder) { return emptyCollection(); }
    try { return JSON.parse(holder.dataset.features || "null") || emptyCollection(); } catch (e) { return emptyCollection(); }
  }

  function drawnData() {
    var features = [];
    if (vertices.length) {
      var geometry;
      if (mode === "polygon" && vertices.length > 2) {
        geometry = { type: "Polygon", coordinates: [vertices.concat([vertices[0]])] };
      } else if (vertices.length > 1) {
        geometry = { type: "LineString", coordinates: vertices };
      } else {
        geometry = { type: "Point", coordinates: vertices[0] };
      }
      features.push({ type: "Feature", geometry: geometry, properties: {} });
    } else if (geometryField.value) {
      try { features.push({ type: "Feature", geometry: JSON.parse(geometryField.value), properties: {} }); } catch (e) { /* shown by the server */ }
    }
    return { type: "FeatureCollection", features: features };
  }

  function refresh() {
    if (!map.getSource("selection")) { return; }
    map.getSource("selection").setData(selectionData());
    map.getSource("drawn").setData(drawnData());
  }

  // Tile URLs must be absolute for MapLibre's workers, with their {z}/{x}/{y} braces unencoded.
  function absolute(url) {
    if (/^[a-z]+:\/\//i.test(url)) { return url; }
    return window.location.origin + (url.charAt(0) === "/" ? "" : "/") + url;
  }

  function addLayer(id, tilejson) {
    if (!tilejson || !tilejson.tiles) { return; }
    var source = "tiles-" + id;
    map.addSource(source, { type: "vector", tiles: tilejson.tiles.map(absolute),
      minzoom: tilejson.minzoom || 0, maxzoom: tilejson.maxzoom || 22 });
    var layer = { id: "asset-" + id, source: source, "source-layer": id };
    if (id === "streetlight" || id === "ramp") {
      layer.type = "circle";
      layer.paint = { "circle-radius": 5, "circle-color": ["match", ["get", "status"], "out", "#d73027", "reported", "#fc8d59", "#2b6cb0"],
        "circle-stroke-color": "#ffffff", "circle-stroke-width": 1 };
    } else if (id === "sidewalk") {
      layer.type = "line";
      layer.paint = { "line-color": "#6b7280", "line-width": 2, "line-dasharray": [2, 1] };
    } else {
      layer.type = "line";
      layer.paint = { "line-color": BAND_COLOURS, "line-width": ["interpolate", ["linear"], ["zoom"], 12, 2, 17, 7] };
      layer.layout = { "line-cap": "round" };
    }
    map.addLayer(layer, "selected-casing");
    CLICKABLE.push(layer.id);
  }

  map.on("load", function () {
    map.addSource("selection", { type: "geojson", data: selectionData() });
    map.addSource("drawn", { type: "geojson", data: drawnData() });
    map.addLayer({ id: "selected-casing", type: "line", source: "selection", filter: ["==", ["geometry-type"], "LineString"],
      paint: { "line-color": "#111827", "line-width": ["interpolate", ["linear"], ["zoom"], 12, 7, 17, 14], "line-opacity": 0.85 } });
    map.addLayer({ id: "selected-line", type: "line", source: "selection", filter: ["==", ["geometry-type"], "LineString"],
      paint: { "line-color": "#38bdf8", "line-width": ["interpolate", ["linear"], ["zoom"], 12, 3, 17, 8] } });
    map.addLayer({ id: "selected-point", type: "circle", source: "selection", filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 9, "circle-color": "#38bdf8", "circle-stroke-color": "#111827", "circle-stroke-width": 3 } });
    map.addLayer({ id: "drawn-fill", type: "fill", source: "drawn", filter: ["==", ["geometry-type"], "Polygon"],
      paint: { "fill-color": "#7c3aed", "fill-opacity": 0.15 } });
    map.addLayer({ id: "drawn-line", type: "line", source: "drawn", paint: { "line-color": "#7c3aed", "line-width": 3, "line-dasharray": [3, 2] } });
    map.addLayer({ id: "drawn-point", type: "circle", source: "drawn", filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 6, "circle-color": "#7c3aed" } });
    Promise.all(LAYERS.map(function (id) {
      return fetch("/tiles/" + id + ".json").then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; });
    })).then(function (found) {
      found.forEach(function (tilejson, i) { addLayer(LAYERS[i], tilejson); });
      container.dataset.ready = "true";
      window.groundworkEditorMap = map; // for browser tests and the console
    });
  });

  // a change made here is a step the selection history (above) can undo
  function setSelection(list, what) {
    selectionHistory.remember(assetsField().value, what);
    assetsField().value = list.join(",");
    say(what);
    changed();
  }

  function toggle(key) {
    var list = keys();
    var index = list.indexOf(key);
    var asset = { asset: key.replace(":", " ") };
    if (index >= 0) { list.splice(index, 1); setSelection(list, message("removed", "Removed {asset}.", asset)); }
    else { list.push(key); setSelection(list, message("added", "Added {asset}.", asset)); }
  }

  map.on("click", function (event) {
    if (mode === "select") {
      var p = event.point;
      var box = [[p.x - 6, p.y - 6], [p.x + 6, p.y + 6]];
      var hits = map.queryRenderedFeatures(box, { layers: CLICKABLE.filter(function (id) { return map.getLayer(id); }) });
      if (!hits.length) { return; }
      var hit = hits[0];
      var id = hit.id !== undefined && hit.id !== null ? hit.id : hit.properties.id;
      if (id === undefined || id === null) { return; }
      toggle(hit.layer.id.replace("asset-", "") + ":" + id);
      return;
    }
    vertices.push([event.lngLat.lng, event.lngLat.lat]);
    if (mode === "point") { finish(); return; }
    say(vertices.length === 1
      ? message("placedOne", "{count} point placed. Double-click or press “Finish drawing” to end.", { count: 1 })
      : message("placedMany", "{count} points placed. Double-click or press “Finish drawing” to end.", { count: vertices.length }));
    refresh();
  });

  map.on("dblclick", function (event) {
    if (mode === "line" || mode === "polygon") { event.preventDefault(); finish(); }
  });

  map.on("mousemove", function (event) {
    if (mode !== "select") { map.getCanvas().style.cursor = "crosshair"; return; }
    var hits = CLICKABLE.length ? map.queryRenderedFeatures(event.point, { layers: CLICKABLE.filter(function (id) { return map.getLayer(id); }) }) : [];
    map.getCanvas().style.cursor = hits.length ? "pointer" : "";
  });

  function finish() {
    var needed = mode === "polygon" ? 3 : mode === "line" ? 2 : 1;
    if (vertices.length < needed) { say(message("needPoints", "Place at least {count} points first.", { count: needed })); return; }
    var geometry = drawnData().features[0].geometry;
    geometryField.value = JSON.stringify(geometry);
    vertices = [];
    say(geometry.type === "Polygon"
      ? message("keptArea", "Drawing kept. Save to store it, or take the segments inside it.")
      : geometry.type === "LineString"
        ? message("keptLine", "Drawing kept. Save to store it, or take the segments along it.")
        : message("kept", "Drawing kept. Save to store it."));
    setMode("select");
    refresh();
    changed();
  }

  function setMode(next) {
    mode = next;
    vertices = [];
    form.querySelectorAll("[data-mode]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.dataset.mode === next ? "true" : "false");
    });
    if (next !== "select") { say(message("clickToPlace", "Click on the map to place points.")); }
    refresh();
  }

  form.querySelectorAll("[data-mode]").forEach(function (button) {
    button.addEventListener("click", function () { setMode(button.dataset.mode); });
  });
  form.querySelectorAll("[data-action]").forEach(function (button) {
    button.addEventListener("click", function () {
      var action = button.dataset.action;
      if (action === "finish") { finish(); }
      if (action === "clear-drawing") { vertices = []; geometryField.value = ""; refresh(); changed(); say(message("drawingCleared", "Drawing cleared.")); }
      if (action === "clear-selection" && keys().length) { setSelection([], message("selectionCleared", "Selection cleared.")); }
    });
  });

  // The street filter's inputs and the add/replace choice only parameterise the take buttons: changing
  // them must not fire the form's preview, which could land after the button's request.
  form.querySelectorAll("#street, #pci_below, [name=take_mode]").forEach(function (input) {
    input.addEventListener("change", function (event) { event.stopPropagation(); });
  });

  document.body.addEventListener("htmx:afterSettle", function () {
    // an answer whose action changed the selection (a take, a removal) is a step to undo, once
    refresh();
  });
})();

/* The side panel's "Remove" buttons (templates/proposals/_workbench.html): the keyboard's and screen
   reader's way to deselect an asset, so they work even where the map cannot start. The request goes
   out from the form, which stays in the page: the buttons are replaced by every answer, and htmx
   drops a queued request whose element has left the page. Focus then moves to the next asset's
   button (else to the selection count) instead of falling to the page's start. */
(function () {
  "use strict";
  var form = document.getElementById("proposal-form");
  if (!form) { return; }
  var removing = null;

  function removeButtons() { return Array.prototype.slice.call(document.querySelectorAll("#workbench [data-remove]")); }

  function selected(key) {
    var field = document.getElementById("assets-field");
    return field ? field.value.split(",").map(function (s) { return s.trim(); }).indexOf(key) >= 0 : false;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("#workbench [data-remove]") : null;
    if (!button || !window.htmx) { return; }
    removing = { key: button.dataset.remove, index: removeButtons().indexOf(button) };
    // no target here: htmx would fix it now, and a queued request would then answer into a side panel
    // already replaced; the form's own hx-target is looked up when the request goes out
    window.htmx.ajax("POST", form.getAttribute("hx-post"), { source: form, values: { remove: removing.key } });
  });

  document.body.addEventListener("htmx:afterSettle", function () {
    if (!removing || selected(removing.key)) { return; }
    var buttons = removeButtons();
    var next = buttons[Math.min(removing.index, buttons.length - 1)] || document.querySelector("#workbench [data-testid=selection-count]");
    removing = null;
    if (next) { next.focus(); }
  });
})();
