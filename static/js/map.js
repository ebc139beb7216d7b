/* Groundwork's public map: MapLibre GL with a style built here from the page's config
   (data-config on #map). Works with no basemap (closed networks): the layers draw on a plain
   background. Exposes window.groundworkMap and sets data-ready="true" on #map once drawn. */
(function () {
  "use strict";

  var container = document.getElementById("map");
  if (!container) { return; }
  var config = JSON.parse(container.getAttribute("data-config"));
  var statusLine = document.getElementById("map-status");
  var styles = config.styles;
  var PREFIX = "gw-";
  var groups = {};        // layer id -> MapLibre layer ids
  var interactive = [];   // MapLibre layer ids that answer clicks, most specific first
  var minZooms = {};
  var popup = null;

  function say(text) { if (statusLine) { statusLine.textContent = text; } }
  // The page's words in its language (data-messages on #map, rendered with the catalogue); English if absent.
  var messages = JSON.parse(container.getAttribute("data-messages") || "{}");
  function t(key, fallback, values) {
    var text = messages[key] || fallback;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(values[name]); });
    return text;
  }

  setUpPanel();
  if (!window.maplibregl) { say(t("loadFailed", "The map could not load. The table view lists every feature.")); return; }

  /* ---------- the side panel on a phone ---------- */
  function setUpPanel() {
    var button = document.querySelector("[data-panel-toggle]");
    var panel = document.getElementById("map-panel");
    if (!button || !panel) { return; }
    var label = button.querySelector("[data-panel-toggle-label]");
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      panel.classList.toggle("is-collapsed", !open);
      label.textContent = open ? t("hidePanel", "Hide layers and summary") : t("showPanel", "Show layers and summary");
    }
    set(!window.matchMedia("(max-width: 760px)").matches);
    var legend = document.querySelector("[data-legend]");
    if (legend && window.matchMedia("(max-width: 760px)").matches) { legend.open = false; }
    button.addEventListener("click", function () { set(button.getAttribute("aria-expanded") !== "true"); });
  }

  /* ---------- style ---------- */
  function matchColour(property, entries, fallback) {
    var expression = ["match", ["to-string", ["get", property]]];
    entries.forEach(function (e) { expression.push(e.key, e.colour); });
    expression.push(fallback);
    return expression;
  }
  function matchValue(property, entries, field, fallback) {
    var expression = ["match", ["to-string", ["get", property]]];
    entries.forEach(function (e) { expression.push(e.key, e[field]); });
    expression.push(fallback);
    return expression;
  }
  function lineWidth(base) {
    return ["interpolate", ["exponential", 1.6], ["zoom"], 11, base * 0.6, 14, base * 1.4, 18, base * 5];
  }
  function worstBands() {
    return styles.pavement.filter(function (e) { return e.dashed; }).map(function (e) { return e.key; });
  }

  function mapLayers(id, tilejson) {
    var source = PREFIX + id;
    var base = { source: source, "source-layer": id };
    var unrated = styles.unrated.colour;
    function layer(suffix, spec) {
      var full = Object.assign({ id: PREFIX + id + suffix }, base, spec);
      if (tilejson && typeof tilejson.minzoom === "number") { full.minzoom = tilejson.minzoom; }
      return full;
    }
    var noMatch = ["==", ["get", "id"], -1];
    if (id === "pavement") {
      var worst = ["in", ["to-string", ["get", "band"]], ["literal", worstBands()]];
      return [
        layer("-selected", { type: "line", filter: noMatch, layout: { "line-cap": "round" },
          paint: { "line-color": "#1a73e8", "line-width": lineWidth(6.5), "line-opacity": 0.8 } }),
        layer("-casing", { type: "line", layout: { "line-cap": "round" },
          paint: { "line-color": "#2b3640", "line-width": lineWidth(4), "line-opacity": 0.85 } }),
        layer("", { type: "line", filter: ["!", worst], layout: { "line-cap": "round" },
          paint: { "line-color": matchColour("band", styles.pavement, unrated), "line-width": lineWidth(2.9) } }),
        layer("-worst", { type: "line", filter: worst,
          paint: { "line-color": matchColour("band", styles.pavement, unrated), "line-width": lineWidth(2.9),
                   "line-dasharray": [1.6, 1] } }),
      ].concat(ownLabels() ? [streetLabels(layer)] : []);
    }
    if (id === "sidewalk") {
      var gap = ["==", ["to-number", ["get", "gap"], 0], 1];
      return [
        layer("-selected", { type: "line", filter: noMatch, layout: { "line-cap": "round" },
          paint: { "line-color": "#1a73e8", "line-width": lineWidth(4), "line-opacity": 0.8 } }),
        layer("", { type: "line", filter: ["!", gap], layout: { "line-cap": "round" },
          paint: { "line-color": matchColour("condition", styles.sidewalk, unrated), "line-width": lineWidth(1.1) } }),
        layer("-gap", { type: "line", filter: gap,
          paint: { "line-color": styles.gap.colour, "line-width": lineWidth(1.6), "line-dasharray": [1.5, 1.2] } }),
      ];
    }
    if (id === "ramp") {
      return [
        layer("", { type: "circle", paint: {
          "circle-color": matchColour("condition", styles.ramp, unrated),
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 15, 3, 19, 7],
          "circle-stroke-color": "#1b2630", "circle-stroke-width": 1 } }),
        layer("-selected", { type: "circle", filter: noMatch, paint: {
          "circle-radius": 12, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": "#1a73e8", "circle-stroke-width": 3 } })
      ];
    }
    if (id === "streetlight") {
      var lights = styles.streetlight;
      var radius = matchValue("status", lights, "radius", 3.5);
      return [
        layer("", { type: "circle", filter: ["!=", ["get", "status"], "out"], paint: {
          "circle-color": matchColour("status", lights, unrated),
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 14, ["*", radius, 0.7], 18, ["*", radius, 1.4]],
          "circle-stroke-color": matchValue("status", lights, "stroke", "#1b2630"),
          "circle-stroke-width": ["match", ["get", "status"], "reported", 2.5, 1] } }),
        layer("-out", { type: "circle", filter: ["==", ["get", "status"], "out"], paint: {
          "circle-color": matchColour("status", lights, unrated),
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 14, ["*", radius, 0.7], 18, ["*", radius, 1.4]],
          "circle-stroke-color": matchValue("status", lights, "stroke", "#1b2630"), "circle-stroke-width": 2.5 } }),
        layer("-selected", { type: "circle", filter: noMatch, paint: {
          "circle-radius": 13, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": "#1a73e8", "circle-stroke-width": 3 } })
      ];
    }
    if (id === "district") {
      return [
        layer("-fill", { type: "fill", paint: { "fill-color": styles.district, "fill-opacity": 0.03 } }),
        layer("", { type: "line", paint: { "line-color": "#ffffff", "line-width": 5, "line-opacity": 0.7 } }),
        layer("-line", { type: "line", paint: { "line-color": styles.district, "line-width": 2.5 } })
      ];
    }
    if (id === "tract") {
      var ramp = ["interpolate", ["linear"], ["to-number", ["get", "poverty"], 0]];
      styles.poverty.forEach(function (stop) { ramp.push(stop[0], stop[1]); });
      return [
        layer("-fill", { type: "fill", paint: {
          "fill-color": ["case", ["==", ["typeof", ["get", "poverty"]], "number"], ramp, unrated],
          "fill-opacity": 0.55 } }),
        layer("", { type: "line", paint: { "line-color": "#4a5866", "line-width": 0.6 } })
      ].concat(ownLabels() ? [areaLabels(layer)] : []);
    }
    return [];
  }

  /* ---------- labels: street names along the city's own pavement lines, tract names; the glyphs are
     our own static files (static/vendor/glyphs), so no outside service is asked ---------- */
  var FONT = ["Noto Sans Regular"];
  function ownLabels() { return !config.basemap; }  // a basemap brings its own labels and glyphs
  function streetLabels(layer) {
    var spec = layer("-label", { type: "symbol", filter: ["has", "street"],
      layout: { "symbol-placement": "line", "text-field": ["get", "street"], "text-font": FONT,
                "text-size": ["interpolate", ["linear"], ["zoom"], 14, 10.5, 17, 13, 19, 15],
                "symbol-spacing": 320, "text-max-angle": 35, "text-padding": 2 },
      paint: { "text-color": "#1b2630", "text-halo-color": "#ffffff", "text-halo-width": 1.6 } });
    spec.minzoom = Math.max(spec.minzoom || 0, 14);
    return spec;
  }
  function areaLabels(layer) {
    return layer("-label", { type: "symbol", filter: ["has", "name"],
      layout: { "text-field": ["get", "name"], "text-font": FONT, "text-size": 12, "text-max-width": 8,
                "text-padding": 6 },
      paint: { "text-color": "#3c4650", "text-halo-color": "#ffffff", "text-halo-width": 1.4 } });
  }

  var ORDER = ["tract", "district", "pavement", "sidewalk", "ramp", "streetlight"];
  var CLICK_ORDER = ["streetlight", "ramp", "sidewalk", "pavement", "district", "tract"];

  // Tile URLs must be absolute for MapLibre's workers; keep the {z}/{x}/{y} braces as they are.
  function absolute(url) {
    if (/^[a-z]+:\/\//i.test(url)) { return url; }
    return window.location.origin + (url.charAt(0) === "/" ? "" : "/") + url;
  }

  function addLayers(tilejsons) {
    var missing = [];
    var byId = {};
    config.layers.forEach(function (layer, i) { byId[layer.id] = { layer: layer, tilejson: tilejsons[i] }; });
    ORDER.forEach(function (id) {
      var entry = byId[id];
      if (!entry) { return; }
      var tj = entry.tilejson;
      if (!tj || !tj.tiles) { missing.push(entry.layer.title); return; }
      minZooms[id] = tj.minzoom || 0;
      if (!map.getSource(PREFIX + id)) {
        var source = { type: "vector", tiles: tj.tiles.map(absolute), minzoom: tj.minzoom || 0,
                       maxzoom: tj.maxzoom || 16 };
        if (tj.bounds) { source.bounds = tj.bounds; }
        if (tj.attribution) { source.attribution = tj.attribution; }
        map.addSource(PREFIX + id, source);
      }
      groups[id] = [];
      mapLayers(id, tj).forEach(function (spec) {
        if (!map.getLayer(spec.id)) { map.addLayer(spec); }
        groups[id].push(spec.id);
        if (!/-(casing|selected|line|label)$/.test(spec.id)) { interactive.push({ layer: id, mapId: spec.id }); }
      });
      setVisible(id, entry.layer.visible && isChecked(id));
    });
    interactive.sort(function (a, b) { return CLICK_ORDER.indexOf(a.layer) - CLICK_ORDER.indexOf(b.layer); });
    updateZoomHints();
    return missing;
  }

  function isChecked(id) {
    var box = document.getElementById("toggle-" + id);
    return box ? box.checked : true;
  }

  function setVisible(id, visible) {
    (groups[id] || []).forEach(function (mapId) {
      map.setLayoutProperty(mapId, "visibility", visible ? "visible" : "none");
    });
    document.querySelectorAll(".district-label").forEach(function (el) {
      if (id === "district") { el.hidden = !visible; }
    });
  }

  function updateZoomHints() {
    var zoom = map.getZoom();
    document.querySelectorAll("[data-zoom-hint]").forEach(function (hint) {
      var id = hint.getAttribute("data-zoom-hint");
      hint.hidden = !(id in minZooms) || zoom >= minZooms[id];
    });
  }

  /* ---------- district labels: HTML markers, so no glyph server is needed ---------- */
  function addDistrictLabels() {
    config.districts.forEach(function (d) {
      var el = document.createElement("div");
      el.className = "district-label";
      el.textContent = d.name;
      el.setAttribute("aria-hidden", "true");
      new maplibregl.Marker({ element: el }).setLngLat([d.lon, d.lat]).addTo(map);
    });
  }

  /* ---------- popups ---------- */
  var bandLabels = {};
  styles.pavement.forEach(function (e) { bandLabels[e.key] = e.label; });
  function labelOf(entries, key) {
    var hit = entries.filter(function (e) { return e.key === key; })[0];
    return hit ? hit.label : (key === null || key === undefined || key === "" ? styles.unrated.label : String(key));
  }
  function titleCase(text) { return text ? String(text).charAt(0).toUpperCase() + String(text).slice(1) : ""; }
  // A coded value (a street class, an owner) by its name in the page's language, else the value itself.
  function named(kind, value) { return (messages[kind] || {})[String(value).toLowerCase()] || titleCase(value); }
  function percent(value) { return Math.round(Number(value) * 1000) / 10 + "%"; }

  function describe(layer, p) {
    var rows = [];
    var title = "";
    if (layer === "pavement") {
      title = p.street || t("pavementSegment", "Pavement segment");
      rows.push([t("conditionBand", "Condition band"), labelOf(styles.pavement, p.band)]);
      rows.push([t("pci", "PCI"), p.pci === null || p.pci === undefined ? t("notRated", "Not rated") : String(Math.round(p.pci))]);
      if (p["class"]) { rows.push([t("streetClass", "Street class"), named("classes", p["class"])]); }
    } else if (layer === "sidewalk") {
      title = p.street ? t("sidewalkOf", "{street} sidewalk", { street: p.street }) : t("sidewalk", "Sidewalk");
      var isGap = Number(p.gap) === 1;
      rows.push([t("condition", "Condition"), isGap ? t("gapHere", "Gap: no sidewalk here") : labelOf(styles.sidewalk, p.condition)]);
      rows.push([t("tripHazards", "Trip hazards"), String(p.hazards || 0)]);
    } else if (layer === "ramp") {
      title = t("curbRamp", "Curb ramp");
      rows.push([t("condition", "Condition"), labelOf(styles.ramp, p.condition)]);
    } else if (layer === "streetlight") {
      title = p.pole ? t("streetlightPole", "Streetlight {pole}", { pole: p.pole }) : t("streetlight", "Streetlight");
      rows.push([t("status", "Status"), labelOf(styles.streetlight, p.status)]);
      if (p.owner) { rows.push([t("owner", "Owner"), named("owners", p.owner)]); }
      if (p.lamp) { rows.push([t("lamp", "Lamp"), p.lamp]); }
    } else if (layer === "district") {
      title = p.name || t("district", "District");
      if (p.code) { rows.push([t("code", "Code"), p.code]); }
    } else if (layer === "tract") {
      title = p.name || t("censusTract", "Census tract {geoid}", { geoid: p.geoid || "" });
      if (p.geoid) { rows.push(["GEOID", p.geoid]); }
      rows.push([t("shareInPoverty", "Share in poverty"), p.poverty === null || p.poverty === undefined ? t("unknown", "Unknown") : percent(p.poverty)]);
    }
    return { title: title, rows: rows };
  }

  var SHOWN = { id: 1, street: 1, street_name: 1, pci: 1, band: 1, "class": 1, functional_class: 1, condition: 1,
    gap: 1, is_gap: 1, hazards: 1, trip_hazards: 1, pole: 1, pole_id: 1, status: 1, owner: 1, lamp: 1,
    lamp_type: 1, name: 1, code: 1, geoid: 1, poverty: 1, poverty_rate: 1, attributes: 1, source_id: 1,
    tract_id: 1, area_m2: 1 };
  var LABELS = { from_street: t("from", "From"), to_street: t("to", "To"), survey_date: t("surveyed", "Surveyed"),
    source_id: t("sourceId", "Source id"), length_m: t("length", "Length"), width_m: t("width", "Width"),
    lanes: t("lanes", "Lanes") };
  var districtNames = {};
  config.districts.forEach(function (d) { districtNames[d.id] = d.name; });

  function formatValue(key, value) {
    if (key === "length_m") { return (value / 1609.344).toFixed(2) + " mi"; }
    if (key === "width_m") { return (value * 3.28084).toFixed(0) + " ft"; }
    if (typeof value === "number" && !Number.isInteger(value)) { return value.toFixed(2); }
    return String(value);
  }
  // From the /ogc item: the normalized fields the tile does not carry, then the source's own columns.
  function extraRows(properties) {
    var rows = [];
    var original = [];
    Object.keys(properties || {}).forEach(function (key) {
      var value = properties[key];
      if (key === "district_id" && config.districts.length) {
        rows.push([t("district", "District"), value === null ? t("outsideDistricts", "Outside districts") : (districtNames[value] || String(value))]);
        return;
      }
      if (SHOWN[key] || key === "district_id" || value === null || value === "" || typeof value === "object") { return; }
      if (key.indexOf("src_") === 0) { original.push([key.slice(4), String(value)]); return; }
      var label = LABELS[key] || titleCase(key.replace(/_m$/, "").replace(/_/g, " "));
      rows.push([label, formatValue(key, value)]);
    });
    return { rows: rows, original: original.slice(0, 40) };
  }

  function popupContent(layer, properties) {
    var info = describe(layer, properties);
    var root = document.createElement("div");
    root.className = "feature-popup";
    var heading = document.createElement("h3");
    heading.textContent = info.title;
    root.appendChild(heading);
    var list = document.createElement("dl");
    function addRows(rows) {
      rows.forEach(function (row) {
        var dt = document.createElement("dt"); dt.textContent = row[0];
        var dd = document.createElement("dd"); dd.textContent = row[1];
        list.appendChild(dt); list.appendChild(dd);
      });
    }
    addRows(info.rows);
    root.appendChild(list);
    if (properties.id !== undefined && properties.id !== null && layer !== "district" && layer !== "tract") {
      var more = document.createElement("p");
      more.className = "feature-popup__more";
      var link = document.createElement("a");
      var street = properties.street || properties.street_name;
      link.href = config.tableUrl + "?layer=" + encodeURIComponent(layer) +
        (street ? "&q=" + encodeURIComponent(street) : "");
      link.textContent = street ? t("allOfStreet", "All of {street} in the table", { street: street })
        : t("allOfLayer", "All of “{layer}” in the table", { layer: layerTitle(layer) });
      more.appendChild(link);
      root.appendChild(more);
      fetchItem(layer, properties.id).then(function (feature) {
        if (!feature) { return; }
        var extra = extraRows(feature.properties);
        addRows(extra.rows);
        if (extra.original.length) {
          var details = document.createElement("details");
          var summary = document.createElement("summary");
          summary.textContent = t("originalAttributes", "Original attributes ({count})", { count: extra.original.length });
          var originals = document.createElement("dl");
          extra.original.forEach(function (row) {
            var dt = document.createElement("dt"); dt.textContent = row[0];
            var dd = document.createElement("dd"); dd.textContent = row[1];
            originals.appendChild(dt); originals.appendChild(dd);
          });
          details.appendChild(summary); details.appendChild(originals);
          root.insertBefore(details, more);
        }
      });
    }
    return root;
  }

  function layerTitle(id) {
    var hit = config.layers.filter(function (l) { return l.id === id; })[0];
    return hit ? hit.title : id;
  }

  function fetchItem(layer, id) {
    var url = config.itemUrl.replace("{layer}", encodeURIComponent(layer)).replace("{id}", encodeURIComponent(id));
    return fetch(url, { headers: { Accept: "application/geo+json, application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }

  function select(layer, id) {
    Object.keys(groups).forEach(function (g) {
      var mapId = PREFIX + g + "-selected";
      if (map.getLayer(mapId)) { map.setFilter(mapId, ["==", ["get", "id"], g === layer ? id : -1]); }
    });
  }

  function openPopup(lngLat, layer, properties) {
    if (popup) { popup.remove(); }
    select(layer, properties.id);
    popup = new maplibregl.Popup({ maxWidth: "300px", focusAfterOpen: true })
      .setLngLat(lngLat).setDOMContent(popupContent(layer, properties)).addTo(map);
    popup.on("close", function () { select(null, -1); });
  }

  function onClick(event) {
    var box = [[event.point.x - 5, event.point.y - 5], [event.point.x + 5, event.point.y + 5]];
    // A proposal under the click is map-public.js's to show: one popup per click.
    var proposals = map.getStyle().layers.filter(function (l) {
      return l.id.indexOf(PREFIX + "proposals") === 0 && map.getLayoutProperty(l.id, "visibility") !== "none";
    }).map(function (l) { return l.id; });
    if (proposals.length && map.queryRenderedFeatures(box, { layers: proposals }).length) { return; }
    for (var i = 0; i < interactive.length; i++) {
      var candidate = interactive[i];
      if (map.getLayoutProperty(candidate.mapId, "visibility") === "none") { continue; }
      var hits = map.queryRenderedFeatures(box, { layers: [candidate.mapId] });
      if (hits.length) { openPopup(event.lngLat, candidate.layer, hits[0].properties); return; }
    }
  }

  function hoverable() {
    return interactive.filter(function (c) { return c.layer !== "district" && c.layer !== "tract"; })
      .map(function (c) { return c.mapId; });
  }

  /* ---------- a feature from the table: /map?layer=…&feature=… ---------- */
  function extent(geometry, box) {
    var coords = geometry.coordinates;
    (function walk(c) {
      if (typeof c[0] === "number") {
        box[0] = Math.min(box[0], c[0]); box[1] = Math.min(box[1], c[1]);
        box[2] = Math.max(box[2], c[0]); box[3] = Math.max(box[3], c[1]);
      } else { c.forEach(walk); }
    })(coords);
    return box;
  }

  function showFocus() {
    var focus = config.focus;
    if (!focus) { return Promise.resolve(); }
    return fetchItem(focus.layer, focus.id).then(function (feature) {
      if (!feature || !feature.geometry) { say(t("gone", "That feature is no longer on the map.")); return; }
      var box = feature.bbox || extent(feature.geometry, [Infinity, Infinity, -Infinity, -Infinity]);
      var box4 = [box[0], box[1], box[box.length === 6 ? 3 : 2], box[box.length === 6 ? 4 : 3]];
      var toggle = document.getElementById("toggle-" + focus.layer);
      if (toggle && !toggle.checked) { toggle.checked = true; setVisible(focus.layer, true); }
      map.fitBounds([[box4[0], box4[1]], [box4[2], box4[3]]],
                    { padding: 60, maxZoom: Math.max(17, minZooms[focus.layer] || 0), animate: false });
      var properties = Object.assign({}, feature.properties, { id: focus.id });
      map.once("idle", function () {
        openPopup([(box4[0] + box4[2]) / 2, (box4[1] + box4[3]) / 2], focus.layer, tileProperties(focus.layer, properties));
      });
    });
  }

  function tileProperties(layer, p) {
    // OGC properties use the table's column names; the popup reads the tiles' shorter names.
    return Object.assign({}, p, {
      street: p.street || p.street_name, "class": p["class"] || p.functional_class,
      gap: p.gap !== undefined ? p.gap : (p.is_gap ? 1 : 0), hazards: p.hazards !== undefined ? p.hazards : p.trip_hazards,
      pole: p.pole || p.pole_id, lamp: p.lamp || p.lamp_type,
      poverty: p.poverty !== undefined ? p.poverty : p.poverty_rate
    });
  }

  /* ---------- the map ---------- */
  // The city is framed beside the open legend on a wide screen, not under it.
  function framePadding() {
    var legend = document.querySelector("[data-legend]");
    var right = 24;
    if (legend && legend.open && container.clientWidth > 700) { right += legend.offsetWidth; }
    return { top: 24, bottom: 24, left: 24, right: right };
  }
  var blank = { version: 8, sources: {}, glyphs: absolute("/static/vendor/glyphs/{fontstack}/{range}.pbf"),
                layers: [{ id: "background", type: "background", paint: { "background-color": config.background } }] };
  var options = { container: container, style: config.basemap || blank, maxZoom: 20,
                  attributionControl: { compact: true, customAttribution: config.attribution || undefined } };
  if (config.bounds) { options.bounds = config.bounds; options.fitBoundsOptions = { padding: framePadding() }; }
  var map;
  try {
    map = new maplibregl.Map(options);
  } catch (error) {
    say(t("noWebgl", "This browser cannot draw the map (WebGL is off). The table view lists every feature."));
    return;
  }
  window.groundworkMap = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "imperial" }), "bottom-left");

  var tilejsons = Promise.all(config.layers.map(function (layer) {
    return fetch(layer.tilejson).then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }));

  var started = false;
  function start() {
    if (started) { return; }
    started = true;
    tilejsons.then(function (found) {
      var missing = addLayers(found);
      if (config.districts.length && groups.district) { addDistrictLabels(); }
      map.on("zoomend", updateZoomHints);
      map.on("click", onClick);
      hoverable().forEach(function (id) {
        map.on("mouseenter", id, function () { map.getCanvas().style.cursor = "pointer"; });
        map.on("mouseleave", id, function () { map.getCanvas().style.cursor = ""; });
      });
      document.querySelectorAll("[data-layer-toggle]").forEach(function (box) {
        box.addEventListener("change", function () { setVisible(box.value, box.checked); });
      });
      return showFocus().then(function () {
        map.once("idle", function () {
          container.setAttribute("data-ready", "true");
          say(missing.length ? t("unavailable", "Not available right now: {layers}.", { layers: missing.join(", ") }) : "");
        });
        map.triggerRepaint();
      });
    });
  }
  map.on("load", start);
  // An unreachable basemap (offline, closed network): draw the layers on the plain background.
  map.on("error", function () {
    if (!started && config.basemap && !map.isStyleLoaded()) {
      config.basemap = null;
      map.setStyle(blank);
      map.once("style.load", start);
    }
  });
})();
