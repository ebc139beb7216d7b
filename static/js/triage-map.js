/* The review page's map: the proposal's geometry over the condition tiles (/tiles). */
(function () {
  "use strict";
  var container = document.getElementById("review-map");
  if (!container || typeof maplibregl === "undefined") { return; }
  var shape = null;
  try { shape = JSON.parse(container.getAttribute("data-geojson") || "null"); } catch (e) { shape = null; }
  var bounds = JSON.parse(container.getAttribute("data-bounds") || "null");
  var map = new maplibregl.Map({
    container: container,
    style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#f3f1ec" } }] },
    bounds: bounds || undefined, fitBoundsOptions: { padding: 40, maxZoom: 17 }, attributionControl: false
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  var BAND = ["case", ["!", ["has", "pci"]], "#9ca3af", ["<", ["get", "pci"], 40], "#b91c1c", ["<", ["get", "pci"], 70], "#d97706", "#15803d"];
  map.on("load", function () {
    ["pavement", "sidewalk", "streetlight"].forEach(function (id) {
      fetch("/tiles/" + id + ".json").then(function (r) { return r.ok ? r.json() : null; }).then(function (tj) {
        if (!tj || !tj.tiles) { return; }
        map.addSource("t-" + id, { type: "vector", tiles: tj.tiles.map(function (t) { return /^https?:/.test(t) ? t : window.location.origin + t; }),
          minzoom: tj.minzoom || 0, maxzoom: tj.maxzoom || 22 });
        var layer = { id: "l-" + id, source: "t-" + id, "source-layer": id };
        if (id === "streetlight") { layer.type = "circle"; layer.paint = { "circle-radius": 4, "circle-color": "#2b6cb0" }; }
        else if (id === "sidewalk") { layer.type = "line"; layer.paint = { "line-color": "#6b7280", "line-width": 1, "line-dasharray": [2, 1] }; }
        else { layer.type = "line"; layer.paint = { "line-color": BAND, "line-opacity": 0.7,
          "line-width": ["interpolate", ["linear"], ["zoom"], 12, 1, 15, 2.5, 18, 6] }; }
        if (id === "streetlight") { layer.paint = { "circle-radius": ["interpolate", ["linear"], ["zoom"], 13, 1.5, 17, 4], "circle-color": "#2b6cb0" }; }
        map.addLayer(layer, map.getLayer("proposal-casing") ? "proposal-casing" : undefined);
      }).catch(function () {});
    });
    if (shape) {
      map.addSource("proposal", { type: "geojson", data: shape });
      map.addLayer({ id: "proposal-fill", type: "fill", source: "proposal", filter: ["==", ["geometry-type"], "Polygon"],
        paint: { "fill-color": "#7c3aed", "fill-opacity": 0.15 } });
      map.addLayer({ id: "proposal-casing", type: "line", source: "proposal", layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": "#ffffff", "line-width": 9 } }, "proposal-fill");
      map.addLayer({ id: "proposal-line", type: "line", source: "proposal", layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": "#4c1d95", "line-width": 4, "line-opacity": 0.9 } });
      map.addLayer({ id: "proposal-point", type: "circle", source: "proposal", filter: ["==", ["geometry-type"], "Point"],
        paint: { "circle-radius": 5, "circle-color": "#ffffff", "circle-stroke-color": "#4c1d95", "circle-stroke-width": 3 } });
    }
  });
})();
