/* The public map's extras, beside map.js (which exposes window.groundworkMap):
   - find a street: choosing a result zooms the map to the street's extent;
   - find an address: choosing one flies the map to the point and marks it (so does /map?address=…);
   - near me: the browser's location (asked only when the button is pressed);
   - the proposals layer: /map/proposals.geojson for the visible box, coloured by category,
     toggled by #toggle-proposals; a click opens the proposal's title, category, status and link. */
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
  var SOURCE = "gw-proposals";
  var LAYERS = ["gw-proposals-fill", "gw-proposals-casing", "gw-proposals-line", "gw-proposals-point"];
  function visible() {
    var box = document.getElementById("toggle-proposals");
    return !box || box.checked;
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
  function refresh(map) {
    if (!visible()) { return; }
    fetch(url(map)).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; })
      .then(function (data) {
        if (!data) { return; }
        var source = map.getSource(SOURCE);
        if (source) { source.setData(data); }
      });
  }
  function escapeText(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  function addLayers(map) {
    if (map.getSource(SOURCE)) { return; }
    map.addSource(SOURCE, { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    var colour = ["coalesce", ["get", "colour"], "#5c5c5c"];
    // Lines and areas go under the condition layers as a wide band in the category's colour, so
    // the street's own condition colour still shows inside it; points go on top.
    var below = (map.getStyle().layers.filter(function (l) { return /^gw-(pavement|sidewalk)/.test(l.id); })[0] || {}).id;
    var width = ["interpolate", ["linear"], ["zoom"], 12, 8, 16, 18, 19, 34];
    var casing = ["interpolate", ["linear"], ["zoom"], 12, 12, 16, 22, 19, 38];
    map.addLayer({ id: LAYERS[0], type: "fill", source: SOURCE, filter: ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]],
      paint: { "fill-color": colour, "fill-opacity": 0.18 } }, below);
    map.addLayer({ id: LAYERS[1], type: "line", source: SOURCE, filter: ["!", ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]]],
      layout: { "line-cap": "round", "line-join": "round" },
      paint: { "line-color": "#ffffff", "line-width": casing, "line-opacity": 0.9 } }, below);
    map.addLayer({ id: LAYERS[2], type: "line", source: SOURCE, filter: ["!", ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]]],
      layout: { "line-cap": "round", "line-join": "round" },
      paint: { "line-color": colour, "line-width": width, "line-opacity": 0.55 } }, below);
    map.addLayer({ id: LAYERS[3], type: "circle", source: SOURCE, filter: ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]],
      paint: { "circle-radius": 7, "circle-color": colour, "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 } });
    LAYERS.forEach(function (id) {
      map.on("mouseenter", id, function () { map.getCanvas().style.cursor = "pointer"; });
      map.on("mouseleave", id, function () { map.getCanvas().style.cursor = ""; });
    });
    map.on("click", function (event) {
      var hits = map.queryRenderedFeatures(event.point, { layers: LAYERS.filter(function (id) { return map.getLayer(id); }) });
      if (!hits.length) { return; }
      var p = hits[0].properties;
      var html = "<h3 class=\"popup-title\">" + escapeText(p.title) + "</h3><p>" + escapeText(p.category_name) +
        " · " + escapeText(p.state_label) + "<br>" + escapeText(p.group) + "</p><p><a href=\"" +
        escapeText(p.url) + "\">" + escapeText(message("open", "Open the project page")) + "</a></p>";
      new maplibregl.Popup({ maxWidth: "300px" }).setLngLat(event.lngLat).setHTML(html).addTo(map);
    });
    var timer = null;
    map.on("moveend", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { refresh(map); }, 200);
    });
    refresh(map);
  }
  function setVisible(map, on) {
    LAYERS.forEach(function (id) {
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
