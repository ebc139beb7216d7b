/* The ballot list's map: each listed project in its category's colour over the pavement condition
   (thin grey-to-colour lines), outlined so the condition still shows; a click opens one popup with the
   project's title, tier and a link to its page. Config in data-config on #ballot-map (the CSP forbids
   inline scripts); sets data-ready="true" once drawn. */
(function () {
  "use strict";
  var container = document.getElementById("ballot-map");
  if (!container || typeof maplibregl === "undefined") { return; }
  var config = JSON.parse(container.getAttribute("data-config"));
  var blank = { version: 8, sources: {},
                layers: [{ id: "background", type: "background", paint: { "background-color": "#e9eeea" } }] };
  var options = { container: container, style: blank, maxZoom: 20, attributionControl: false, cooperativeGestures: true };
  if (config.bounds) { options.bounds = config.bounds; options.fitBoundsOptions = { padding: 40, maxZoom: 16 }; }
  var map;
  try { map = new maplibregl.Map(options); } catch (error) { container.hidden = true; return; }
  window.groundworkBallotMap = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  function absolute(url) { return /^[a-z]+:\/\//i.test(url) ? url : window.location.origin + url; }
  function bandColour() {
    var expression = ["match", ["to-string", ["get", "band"]]];
    config.bands.forEach(function (b) { expression.push(b.key, b.colour); });
    expression.push(config.unrated);
    return expression;
  }
  var LAYERS = ["ballot-line", "ballot-area", "ballot-point"];
  function addProjects() {
    var colour = ["coalesce", ["get", "colour"], "#5c5c5c"];
    map.addSource("ballot", { type: "geojson", data: config.features });
    map.addLayer({ id: LAYERS[0], type: "line", source: "ballot",
      filter: ["in", ["geometry-type"], ["literal", ["LineString", "MultiLineString"]]],
      layout: { "line-cap": "round", "line-join": "round" },
      paint: { "line-color": colour, "line-width": 2.5, "line-gap-width": ["interpolate", ["linear"], ["zoom"], 12, 4, 16, 10] } });
    map.addLayer({ id: LAYERS[1], type: "line", source: "ballot",
      filter: ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]],
      paint: { "line-color": colour, "line-width": 2.5, "line-dasharray": [2, 1.5] } });
    map.addLayer({ id: LAYERS[2], type: "circle", source: "ballot",
      filter: ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]],
      paint: { "circle-radius": 6, "circle-color": "#ffffff", "circle-stroke-color": colour, "circle-stroke-width": 3 } });
    var popup = null;
    map.on("click", function (event) {
      var box = [[event.point.x - 5, event.point.y - 5], [event.point.x + 5, event.point.y + 5]];
      var hits = map.queryRenderedFeatures(box, { layers: LAYERS });
      if (!hits.length) { return; }
      var p = hits[0].properties;
      var root = document.createElement("div");
      var title = document.createElement("h3"); title.className = "popup-title"; title.textContent = p.title;
      var facts = document.createElement("p"); facts.textContent = p.category_name + " · " + container.getAttribute("data-tier-word") + " " + p.tier;
      var more = document.createElement("p"); var link = document.createElement("a");
      link.href = p.url; link.textContent = container.getAttribute("data-open-word"); more.appendChild(link);
      root.appendChild(title); root.appendChild(facts); root.appendChild(more);
      if (popup) { popup.remove(); }
      popup = new maplibregl.Popup({ maxWidth: "300px" }).setLngLat(event.lngLat).setDOMContent(root).addTo(map);
    });
    LAYERS.forEach(function (id) {
      map.on("mouseenter", id, function () { map.getCanvas().style.cursor = "pointer"; });
      map.on("mouseleave", id, function () { map.getCanvas().style.cursor = ""; });
    });
    map.once("idle", function () { container.setAttribute("data-ready", "true"); });
  }
  map.on("load", function () {
    if (!config.tilejson) { addProjects(); return; }
    fetch(config.tilejson).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; })
      .then(function (tj) {
        if (tj && tj.tiles) {
          map.addSource("pavement", { type: "vector", tiles: tj.tiles.map(absolute), minzoom: tj.minzoom || 0,
                                      maxzoom: tj.maxzoom || 16 });
          map.addLayer({ id: "pavement", type: "line", source: "pavement", "source-layer": "pavement",
            layout: { "line-cap": "round" }, paint: { "line-color": bandColour(), "line-width": 2, "line-opacity": 0.8 } });
        }
        addProjects();
      });
  });
})();
