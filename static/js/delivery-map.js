/* The delivery overview's map: every ballot project, coloured by phase (colours in each feature's
   "colour" property, app/delivery/overview.py). Config in data-config (the CSP forbids inline scripts). */
(function () {
  "use strict";
  var container = document.getElementById("delivery-map");
  if (!container || typeof maplibregl === "undefined") { return; }
  var config = JSON.parse(container.getAttribute("data-config"));
  var features = config.features.features;
  if (!features.length) { container.hidden = true; return; }
  var bounds = new maplibregl.LngLatBounds();
  function extend(coordinates) {
    if (typeof coordinates[0] === "number") { bounds.extend(coordinates); return; }
    coordinates.forEach(extend);
  }
  features.forEach(function (f) { extend(f.geometry.coordinates); });
  var blank = { version: 8, sources: {},
                layers: [{ id: "background", type: "background", paint: { "background-color": "#e9eeea" } }] };
  var map;
  try {
    map = new maplibregl.Map({ container: container, style: blank, bounds: bounds, maxZoom: 18,
                               fitBoundsOptions: { padding: 40, maxZoom: 16 }, attributionControl: false,
                               cooperativeGestures: true });
  } catch (error) { container.hidden = true; return; }
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.on("load", function () {
    map.addSource("projects", { type: "geojson", data: config.features });
    map.addLayer({ id: "project-lines", type: "line", source: "projects",
      filter: ["in", ["geometry-type"], ["literal", ["LineString", "MultiLineString"]]],
      layout: { "line-cap": "round" }, paint: { "line-color": ["get", "colour"], "line-width": 6 } });
    map.addLayer({ id: "project-areas", type: "fill", source: "projects",
      filter: ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]],
      paint: { "fill-color": ["get", "colour"], "fill-opacity": 0.4 } });
    map.addLayer({ id: "project-points", type: "circle", source: "projects",
      filter: ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]],
      paint: { "circle-radius": 7, "circle-color": ["get", "colour"], "circle-stroke-color": "#1b2630",
               "circle-stroke-width": 1 } });
    ["project-lines", "project-areas", "project-points"].forEach(function (layer) {
      map.on("click", layer, function (event) {
        var p = event.features[0].properties;
        var link = document.createElement("a");
        link.href = "/projects/" + p.proposal_id;
        link.textContent = p.title + " — " + p.phase_label + " (" + p.progress + " %)";
        new maplibregl.Popup().setLngLat(event.lngLat).setDOMContent(link).addTo(map);
      });
    });
    container.setAttribute("data-ready", "true");
  });
})();
