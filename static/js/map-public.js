/* The public map's extras, beside map.js (which exposes window.groundworkMap):
   - find a street: choosing a result zooms the map to the street's extent;
   - find an address: choosing one flies the map to the point and marks it (so does /map?address=…);
   - near me: the browser's location (asked only when the button is pressed);
   - the proposals layer (off until #toggle-proposals is checked): /map/proposals.geojson for the
     visible box, outlined in the category's colour beside the streets and clustered when zoomed
     out; a click opens the proposal's title, category, status and link. */
(function () {
  "use strict";
  var statusLine = document.getElementById("map-status");
  function say(text) { if (statusLine) { statusLine.textContent = text; } }
  var finder = document.querySelector("[data-messages]");
  var messages = finder ? JSON.parse(finder.getAttribute("data-messages")) : {};
  function message(key, fallback) { return messages[key] || fallback; }
  // Once map.js has drawn its layers (#map data-ready), so the proposals go on top of them.
  function withMap(callback) {
    var tries = 0;
    (function wait() {
      var map = window.groundworkMap;
      var box = document.getElementById("map");
      if (map && box && box.getAttribute("data-ready") === "true") { callback(map); return; }
      if (tries++ < 600) { window.setTimeout(wait, 100); }
    })();
  }

  /* ---------- find a street ---------- */
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-street-bounds]") : null;
    if (!link || !window.groundworkMap) { return; }
    var box = link.getAttribute("data-street-bounds").split(",").map(Number);
    if (box.length !== 4 || box.some(isNaN)) { return; }
    event.preventDefault();
    window.groundworkMap.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: 60, maxZoom: 18, animate: false });
    var input = document.getElementById("street-search");
    if (input) { input.value = link.getAttribute("data-street-name"); }
    var results = document.getElementById("street-results");
    if (results) { results.innerHTML = ""; }
    say(message("showing", "Showing {street}.").replace("{street}", link.getAttribute("data-street-name")));
    var map = document.getElementById("map");
    if (map) { map.setAttribute("data-street", link.getAttribute("data-street-name")); }
  });

  /* ---------- find an address ---------- */
  var placeMarker = null;
  function showPlace(map, place, animate) {
    var lngLat = [place.lon, place.lat];
    if (animate) {
      map.flyTo({ center: lngLat, zoom: Math.max(map.getZoom(), 18), speed: 1.6 });
    } else {
      map.jumpTo({ center: lngLat, zoom: 18 });
    }
    if (placeMarker) { placeMarker.remove(); }
    var popup = new maplibregl.Popup({ offset: 36, closeButton: false, closeOnClick: false }).setText(place.name);
    placeMarker = new maplibregl.Marker({ color: "#b3261e" }).setLngLat(lngLat).setPopup(popup).addTo(map);
    placeMarker.getElement().classList.add("place-marker");
    placeMarker.getElement().setAttribute("aria-label", place.name);
    placeMarker.togglePopup();
    say(message("showing", "Showing {street}.").replace("{street}", place.name));
    var box = document.getElementById("map");
    if (box) { box.setAttribute("data-place", place.name); }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-place-point]") : null;
    if (!link || !window.groundworkMap) { return; }  // the results page: the link opens the map there
    var point = link.getAttribute("data-place-point").split(",").map(Number);
    if (point.length !== 2 || point.some(isNaN)) { return; }
    event.preventDefault();
    var place = { lon: point[0], lat: point[1], name: link.getAttribute("data-place-name") };
    var input = document.getElementById("street-search");
    if (input) { input.value = place.name; }
    var results = document.getElementById("street-results");
    if (results) { results.innerHTML = ""; }
    if (window.history && window.history.replaceState) { window.history.replaceState(null, "", link.href); }
    showPlace(window.groundworkMap, place, true);
  });
  var given = finder && finder.getAttribute("data-place");
  if (given) {
    withMap(function (map) { showPlace(map, JSON.parse(given), false); });
  }

  /* ---------- near me ---------- */
  var nearMe = document.querySelector("[data-near-me]");
  if (nearMe && navigator.geolocation) {
    nearMe.hidden = false;
    var marker = null;
    nearMe.addEventListener("click", function () {
      say(message("locating", "Finding where you are…"));
      navigator.geolocation.getCurrentPosition(function (position) {
        var lngLat = [position.coords.longitude, position.coords.latitude];
        withMap(function (map) {
          map.jumpTo({ center: lngLat, zoom: 16 });
          if (marker) { marker.remove(); }
          marker = new maplibregl.Marker({ color: "#1a73e8" }).setLngLat(lngLat).addTo(map);
          say(message("near", "Showing the streets near you."));
        });
      }, function () {
        say(message("noLocation", "Your location is not available; search for a street instead."));
      }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 });
    });
  }

  /* ---------- proposals layer ---------- */
  // Off until asked for. Drawn so it never hides a condition: a street's proposal is a thin outline
  // on both sides of its line (line-gap-width), an area a dashed outline, a point a small ring in the
  // category's colour (a palette apart from the condition ramp); below zoom 14 each proposal is one
  // dot at its centre, clustered, with the count in the cluster.
  var SOURCE = "gw-proposals";
  var CENTRES = "gw-proposals-centres";
  var DETAIL = 14;
  var LAYERS = ["gw-proposals-area", "gw-proposals-line", "gw-proposals-point"];
  var CLUSTER_LAYERS = ["gw-proposals-cluster", "gw-proposals-cluster-count", "gw-proposals-centre"];
  var popup = null;
  function visible() {
    var box = document.getElementById("toggle-proposals");
    return !!box && box.checked;
  }
  function url(map) {
    var b = map.getBounds();
    var box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); });
    box[0] = Math.max(-180, box[0]); box[1] = Math.max(-90, box[1]);
    box[2] = Math.min(180, box[2]); box[3] = Math.min(90, box[3]);
    var query = "/map/proposals.geojson?bbox=" + box.join(",");
    document.querySelectorAll("[data-proposals-filter]").forEach(function (select) {
      if (select.value) { query += "&" + select.getAttribute("data-proposals-filter") + "=" + encodeURIComponent(select.value); }
    });
    return query;
  }
  function centre(geometry) {
    var box = [Infinity, Infinity, -Infinity, -Infinity];
    (function walk(c) {
      if (typeof c[0] === "number") {
        box[0] = Math.min(box[0], c[0]); box[1] = Math.min(box[1], c[1]);
        box[2] = Math.max(box[2], c[0]); box[3] = Math.max(box[3], c[1]);
      } else { c.forEach(walk); }
    })(geometry.type === "GeometryCollection" ? geometry.geometries.map(function (g) { return g.coordinates; }) : geometry.coordinates);
    return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
  }
  function centres(data) {
    return { type: "FeatureCollection", features: data.features.filter(function (f) { return f.geometry; }).map(function (f) {
      return { type: "Feature", properties: f.properties, geometry: { type: "Point", coordinates: centre(f.geometry) } };
    }) };
  }
  function refresh(map) {
    if (!visible()) { return; }
    fetch(url(map)).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; })
      .then(function (data) {
        if (!data) { return; }
        var source = map.getSource(SOURCE);
        if (source) { source.setData(data); }
        var points = map.getSource(CENTRES);
        if (points) { points.setData(centres(data)); }
      });
  }
  function escapeText(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  function present(map, ids) { return ids.filter(function (id) { return map.getLayer(id) && map.getLayoutProperty(id, "visibility") !== "none"; }); }
  function addLayers(map) {
    if (map.getSource(SOURCE)) { return; }
    var empty = { type: "FeatureCollection", features: [] };
    map.addSource(SOURCE, { type: "geojson", data: empty });
    map.addSource(CENTRES, { type: "geojson", data: empty, cluster: true, clusterRadius: 36, clusterMaxZoom: DETAIL - 1 });
    var colour = ["coalesce", ["get", "colour"], "#5c5c5c"];
    var areas = ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]];
    var lines = ["in", ["geometry-type"], ["literal", ["LineString", "MultiLineString"]]];
    var points = ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]];
    // the gap is wider than the condition line and its casing, so the outline sits beside the street
    var gap = ["interpolate", ["exponential", 1.6], ["zoom"], 14, 9, 16, 16, 18, 30];
    map.addLayer({ id: LAYERS[0], type: "line", source: SOURCE, filter: areas, minzoom: DETAIL,
      paint: { "line-color": colour, "line-width": 2, "line-dasharray": [2, 1.5] } });
    map.addLayer({ id: LAYERS[1], type: "line", source: SOURCE, filter: lines, minzoom: DETAIL,
      layout: { "line-cap": "round", "line-join": "round" },
      paint: { "line-color": colour, "line-width": 2, "line-gap-width": gap, "line-opacity": 0.9 } });
    map.addLayer({ id: LAYERS[2], type: "circle", source: SOURCE, filter: points, minzoom: DETAIL,
      paint: { "circle-radius": 6, "circle-color": "rgba(255,255,255,0)", "circle-stroke-color": colour,
               "circle-stroke-width": 2.5 } });
    map.addLayer({ id: CLUSTER_LAYERS[0], type: "circle", source: CENTRES, filter: ["has", "point_count"], maxzoom: DETAIL,
      paint: { "circle-radius": ["step", ["get", "point_count"], 11, 10, 14, 50, 18], "circle-color": "#ffffff",
               "circle-opacity": 0.92, "circle-stroke-color": "#26323d", "circle-stroke-width": 2 } });
    if (!map.getStyle().glyphs) { CLUSTER_LAYERS.splice(1, 1); } else {
      map.addLayer({ id: CLUSTER_LAYERS[1], type: "symbol", source: CENTRES, filter: ["has", "point_count"], maxzoom: DETAIL,
        layout: { "text-field": ["to-string", ["get", "point_count"]], "text-font": ["Noto Sans Regular"], "text-size": 12,
                  "text-allow-overlap": true },
        paint: { "text-color": "#26323d" } });
    }
    map.addLayer({ id: CLUSTER_LAYERS[CLUSTER_LAYERS.length - 1], type: "circle", source: CENTRES,
      filter: ["!", ["has", "point_count"]], maxzoom: DETAIL,
      paint: { "circle-radius": 5, "circle-color": "#ffffff", "circle-stroke-color": colour, "circle-stroke-width": 2.5 } });
    LAYERS.concat(CLUSTER_LAYERS).forEach(function (id) {
      map.on("mouseenter", id, function () { map.getCanvas().style.cursor = "pointer"; });
      map.on("mouseleave", id, function () { map.getCanvas().style.cursor = ""; });
    });
    // One popup per click: map.js leaves a click that lands on a proposal to this handler.
    map.on("click", function (event) {
      var box = [[event.point.x - 5, event.point.y - 5], [event.point.x + 5, event.point.y + 5]];
      var clusters = map.queryRenderedFeatures(box, { layers: present(map, [CLUSTER_LAYERS[0]]) });
      if (clusters.length) {
        map.getSource(CENTRES).getClusterExpansionZoom(clusters[0].properties.cluster_id).then(function (zoom) {
          map.easeTo({ center: clusters[0].geometry.coordinates, zoom: Math.max(zoom, map.getZoom() + 1) });
        });
        return;
      }
      var hits = map.queryRenderedFeatures(box, { layers: present(map, LAYERS.concat(CLUSTER_LAYERS.slice(-1))) });
      if (!hits.length) { return; }
      var p = hits[0].properties;
      var html = "<div class=\"proposal-popup\"><h3 class=\"popup-title\">" + escapeText(p.title) + "</h3><p>" + escapeText(p.category_name) +
        " · " + escapeText(p.state_label) + "<br>" + escapeText(p.group) + "</p><p><a href=\"" +
        escapeText(p.url) + "\">" + escapeText(message("open", "Open the project page")) + "</a></p></div>";
      if (popup) { popup.remove(); }
      popup = new maplibregl.Popup({ maxWidth: "300px" }).setLngLat(event.lngLat).setHTML(html).addTo(map);
    });
    var timer = null;
    map.on("moveend", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { refresh(map); }, 200);
    });
    setVisible(map, visible());
  }
  function setVisible(map, on) {
    LAYERS.concat(CLUSTER_LAYERS).forEach(function (id) {
      if (map.getLayer(id)) { map.setLayoutProperty(id, "visibility", on ? "visible" : "none"); }
    });
    if (on) { refresh(map); }
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target || !window.groundworkMap) { return; }
    if (target.id === "toggle-proposals") { setVisible(window.groundworkMap, target.checked); }
    if (target.hasAttribute && target.hasAttribute("data-proposals-filter")) { refresh(window.groundworkMap); }
  });
  if (document.getElementById("map")) {
    withMap(function (map) {
      addLayers(map);
      map.on("style.load", function () { addLayers(map); });  // the basemap fell back to the plain style
    });
  }
})();
