/* A project page's map: the proposal's location (blue) over the pavement condition tiles,
   coloured by band. Config in data-config on #project-map (the CSP forbids inline scripts). */
(function () {
  "use strict";
  var container = document.getElementById("project-map");
  if (!container || typeof maplibregl === "undefined") { return; }
  var config = JSON.parse(container.getAttribute("data-config"));
  var blank = { version: 8, sources: {},
                layers: [{ id: "background", type: "background", paint: { "background-color": "#e9eeea" } }] };
  var options = { container: container, style: blank, maxZoom: 20, attributionControl: false,
                  cooperativeGestures: true };
  if (config.bounds) { options.bounds = config.bounds; options.fitBoundsOptions = { padding: 40, maxZoom: 17 }; }
  var map;
  try { map = new maplibregl.Map(options); } catch (error) { container.hidden = true; return; }
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  function absolute(url) {
    return /^[a-z]+:\/\//i.test(url) ? url : window.location.origin + url;
  }
  function bandColour() {
    var expression = ["match", ["to-string", ["get", "band"]]];
    config.bands.forEach(function (b) { expression.push(b.key, b.colour); });
    expression.push(config.unrated);
    return expression;
  }
  function addOutline() {  // under the pavement: a wide blue band the condition colours sit in
    map.addSource("project", { type: "geojson", data: config.features });
    map.addLayer({ id: "project-line-casing", type: "line", source: "project",
      filter: ["!", ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]]], layout: { "line-cap": "round" },
      paint: { "line-color": "#1a56c4", "line-width": 14, "line-opacity": 0.75 } });
  }
  function addProject() {
    map.addLayer({ id: "project-fill", type: "fill", source: "project",
      filter: ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]],
      paint: { "fill-color": "#1a73e8", "fill-opacity": 0.15 } });
    map.addLayer({ id: "project-point", type: "circle", source: "project",
      filter: ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]],
      paint: { "circle-radius": 8, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": "#0b3d91",
               "circle-stroke-width": 3 } });
    container.setAttribute("data-ready", "true");
  }
  map.on("load", function () {
    addOutline();
    if (!config.tilejson) { addProject(); return; }
    fetch(config.tilejson).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; })
      .then(function (tj) {
        if (tj && tj.tiles) {
          map.addSource("pavement", { type: "vector", tiles: tj.tiles.map(absolute), minzoom: tj.minzoom || 0,
                                      maxzoom: tj.maxzoom || 16 });
          map.addLayer({ id: "pavement", type: "line", source: "pavement", "source-layer": "pavement",
            layout: { "line-cap": "round" }, paint: { "line-color": bandColour(), "line-width": 4 } });
        }
        addProject();
      });
  });
})();
