// The infrastructure map (/map) on the vendored Leaflet.
//
// Assets come from the API's GeoJSON by the bounding box of the view (the
// session cookie signs the request in) and are drawn on one canvas as
// circle markers and polylines, so that tens of thousands stay smooth; a
// view inside what is already loaded fetches nothing. Colours come from the
// legend's swatches (app.css), so that the legend and the map cannot
// disagree. Words come from the container's data-t-* attributes, which the
// server fills in the reader's language. The container's data-state and
// data-count say when the assets are drawn (the browser test waits on them).
(function () {
  'use strict';

  var el = document.getElementById('map');
  if (!el || !window.L) {
    return;
  }
  var d = el.dataset;
  var statusEl = document.getElementById('map-status');
  var legendKind = document.getElementById('legend-kind');
  var legendFree = document.getElementById('legend-free');
  var modeBox = document.getElementById('map-mode');
  var numFmt = new Intl.NumberFormat('vi-VN');
  var lineKinds = { duct: true, conduit: true, tunnel: true };

  function legendOf(list, attr) {
    var out = {};
    list.querySelectorAll('li').forEach(function (li) {
      var swatch = li.querySelector('.map-swatch');
      out[li.getAttribute(attr)] = {
        colour: window.getComputedStyle(swatch).backgroundColor,
        label: li.textContent.trim()
      };
    });
    return out;
  }
  var kinds = legendOf(legendKind, 'data-kind');
  var frees = legendOf(legendFree, 'data-free');
  var mode = 'kind';

  // freeClass: none when full, little when one slot or under a quarter is
  // left, else plenty (the legend says the same).
  function freeClass(cap) {
    if (!cap || cap.free <= 0) {
      return 'none';
    }
    if (cap.free === 1 || cap.free * 4 < cap.total) {
      return 'little';
    }
    return 'plenty';
  }

  function colourOf(p) {
    var entry = mode === 'free' ? frees[freeClass(p.capacity)] : kinds[p.kind];
    return entry ? entry.colour : '#555555';
  }

  function setStatus(state, text) {
    el.dataset.state = state;
    if (statusEl) {
      statusEl.textContent = text;
    }
  }

  var renderer = L.canvas({ padding: 0.3, tolerance: 4 });
  var map = L.map(el, {
    preferCanvas: true,
    renderer: renderer,
    center: [parseFloat(d.lat), parseFloat(d.lon)],
    zoom: parseInt(d.zoom, 10),
    minZoom: 8,
    maxZoom: 19
  });
  // For the browser test and the console.
  window.infrashareMap = map;

  // The tile layer only when a setting names a server: the city network
  // may not reach one, and a plain background is the default.
  var baseLayers = {};
  if (d.tileTemplate) {
    var holder = document.createElement('span');
    holder.textContent = d.tileAttribution || '';
    var tiles = L.tileLayer(d.tileTemplate, { maxZoom: 19, attribution: holder.innerHTML });
    tiles.addTo(map);
    baseLayers[d.tTiles] = tiles;
    baseLayers[d.tPlain] = L.layerGroup();
  }

  var units = L.geoJSON(null, {
    interactive: false,
    style: function (f) {
      var district = f.properties && f.properties.level !== 'commune';
      return { color: '#0b4f8a', weight: district ? 2.5 : 1.2, opacity: 0.8, dashArray: district ? null : '4 4',
        fill: true, fillOpacity: 0.03 };
    },
    onEachFeature: function (f, layer) {
      if (f.properties && f.properties.level === 'district') {
        layer.bindTooltip(f.properties.name, { permanent: true, direction: 'center', className: 'map-unit-label' });
      }
    }
  }).addTo(map);
  var points = L.featureGroup().addTo(map);
  var lines = L.featureGroup().addTo(map);

  var overlays = {};
  overlays[d.tUnits] = units;
  overlays[d.tLines] = lines;
  overlays[d.tPoints] = points;
  L.control.layers(baseLayers, overlays, { collapsed: false }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);

  fetch(d.unitsUrl, { credentials: 'same-origin', headers: { Accept: 'application/geo+json' } })
    .then(function (r) {
      if (!r.ok) {
        throw new Error('units: ' + r.status);
      }
      return r.json();
    })
    .then(function (fc) {
      units.addData(fc);
      units.bringToBack();
    })
    .catch(function () { /* the assets still show without boundaries */ });

  // byId holds what is drawn: id → {layer, group, version}.
  var byId = new Map();

  function styleOf(p) {
    var colour = colourOf(p);
    if (lineKinds[p.kind]) {
      return { color: colour, weight: 4, opacity: 0.9 };
    }
    return { color: '#222222', weight: p.coarse ? 1.5 : 1, dashArray: p.coarse ? '2 2' : null,
      fillColor: colour, fillOpacity: 0.9 };
  }

  function layerOf(f) {
    var g = f.geometry;
    var p = f.properties;
    if (!g) {
      return null;
    }
    var opts = styleOf(p);
    opts.renderer = renderer;
    opts.bubblingMouseEvents = false;
    var layer;
    if (g.type === 'Point') {
      opts.radius = 5;
      layer = L.circleMarker([g.coordinates[1], g.coordinates[0]], opts);
    } else if (g.type === 'LineString' || g.type === 'MultiLineString') {
      layer = L.polyline(L.GeoJSON.coordsToLatLngs(g.coordinates, g.type === 'MultiLineString' ? 1 : 0), opts);
    } else {
      return null;
    }
    layer.asset = p;
    return layer;
  }

  function draw(features) {
    var seen = new Set();
    features.forEach(function (f) {
      var p = f.properties || {};
      var id = f.id != null ? f.id : p.id;
      seen.add(id);
      var known = byId.get(id);
      if (known && known.version === p.version) {
        return;
      }
      if (known) {
        known.group.removeLayer(known.layer);
      }
      var layer = layerOf(f);
      if (!layer) {
        byId.delete(id);
        return;
      }
      var group = layer instanceof L.CircleMarker ? points : lines;
      group.addLayer(layer);
      byId.set(id, { layer: layer, group: group, version: p.version });
    });
    byId.forEach(function (entry, id) {
      if (!seen.has(id)) {
        entry.group.removeLayer(entry.layer);
        byId.delete(id);
      }
    });
  }

  function recolour() {
    byId.forEach(function (entry) {
      entry.layer.setStyle(styleOf(entry.layer.asset));
    });
  }

  var loaded = null;
  var pending = null;
  var timer = null;

  function clamp(v, lo, hi) {
    return Math.max(lo, Math.min(hi, v));
  }

  function load() {
    var view = map.getBounds();
    if (loaded && loaded.contains(view)) {
      return;
    }
    var want = view.pad(0.25);
    var bbox = [clamp(want.getWest(), -180, 180), clamp(want.getSouth(), -90, 90),
      clamp(want.getEast(), -180, 180), clamp(want.getNorth(), -90, 90)].map(function (n) {
      return n.toFixed(5);
    }).join(',');
    if (pending) {
      pending.abort();
    }
    var ctrl = new AbortController();
    pending = ctrl;
    setStatus('loading', d.tLoading);
    fetch(d.assetsUrl + '?bbox=' + encodeURIComponent(bbox), {
      credentials: 'same-origin', signal: ctrl.signal, headers: { Accept: 'application/geo+json' }
    }).then(function (r) {
      if (!r.ok) {
        throw new Error('assets: ' + r.status);
      }
      return r.json();
    }).then(function (fc) {
      draw(fc.features || []);
      loaded = want;
      pending = null;
      el.dataset.count = String(byId.size);
      setStatus('ready', d.tShown.replace('%s', numFmt.format(byId.size)));
    }).catch(function (err) {
      if (err && err.name === 'AbortError') {
        return;
      }
      pending = null;
      setStatus('error', d.tFailed);
    });
  }

  map.on('moveend', function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(load, 200);
  });
  load();

  function row(dl, term, value) {
    var dt = document.createElement('dt');
    dt.textContent = term;
    var dd = document.createElement('dd');
    dd.textContent = value;
    dl.appendChild(dt);
    dl.appendChild(dd);
  }

  function assetPopup(p) {
    var box = document.createElement('div');
    box.className = 'map-popup';
    var title = document.createElement('strong');
    title.textContent = p.code;
    box.appendChild(title);
    var dl = document.createElement('dl');
    row(dl, d.tKind, kinds[p.kind] ? kinds[p.kind].label : p.kind);
    if (p.owner) {
      row(dl, d.tOwner, p.owner.name + ' (' + p.owner.code + ')');
    }
    if (p.capacity) {
      row(dl, d.tFree, numFmt.format(p.capacity.free) + ' / ' + numFmt.format(p.capacity.total));
    }
    box.appendChild(dl);
    if (p.coarse) {
      var note = document.createElement('p');
      note.textContent = d.tCoarse;
      box.appendChild(note);
    }
    var link = document.createElement('a');
    link.href = '/assets/' + encodeURIComponent(p.id);
    link.className = 'map-asset-link';
    link.textContent = d.tOpen;
    box.appendChild(link);
    return box;
  }

  function onAsset(e) {
    if (e.layer && e.layer.asset) {
      L.popup().setLatLng(e.latlng).setContent(assetPopup(e.layer.asset)).openOn(map);
    }
  }
  points.on('click', onAsset);
  lines.on('click', onAsset);

  // A click on empty map offers the nearby search around that point.
  map.on('click', function (e) {
    var ll = e.latlng.wrap();
    var lat = ll.lat.toFixed(6);
    var lon = ll.lng.toFixed(6);
    var box = document.createElement('div');
    box.className = 'map-popup';
    var p = document.createElement('p');
    p.textContent = d.tPoint + ': ' + lat.replace('.', ',') + '; ' + lon.replace('.', ',');
    box.appendChild(p);
    var link = document.createElement('a');
    link.href = '/nearby?' + new URLSearchParams({ lat: lat, lon: lon }).toString();
    link.className = 'map-nearby-link';
    link.textContent = d.tNearby;
    box.appendChild(link);
    L.popup().setLatLng(e.latlng).setContent(box).openOn(map);
  });

  // Colour by kind or by free capacity; the legend follows.
  if (modeBox) {
    modeBox.hidden = false;
    modeBox.addEventListener('change', function (e) {
      if (!e.target || e.target.name !== 'colour') {
        return;
      }
      mode = e.target.value === 'free' ? 'free' : 'kind';
      legendKind.hidden = mode !== 'kind';
      legendFree.hidden = mode !== 'free';
      recolour();
    });
  }
}());
