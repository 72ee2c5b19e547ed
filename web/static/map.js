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
  // For the browser test and the console (with map.assetPoints below).
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
  // The point the map was opened on (from the nearby search), with the
  // radius searched around it.
  if (d.mark) {
    var centre = map.getCenter();
    var radius = parseFloat(d.markRadius);
    if (radius > 0) {
      L.circle(centre, { radius: radius, interactive: false, color: '#0b4f8a', weight: 2, dashArray: '6 4', fillOpacity: 0.05 })
        .addTo(map);
    }
    L.circleMarker(centre, { radius: 7, interactive: false, color: '#0b4f8a', weight: 3, fill: false }).addTo(map);
  }

  // dotRadius: small dots when the whole city shows, larger in the streets.
  function dotRadius() {
    var z = map.getZoom();
    return z <= 11 ? 3 : z >= 15 ? 7 : 5;
  }

  // PointLayer draws every point asset on one canvas of its own, one path
  // per colour, from positions projected once at zoom 0: a redraw is
  // arithmetic and a few fills, not one Leaflet layer per asset (which
  // takes seconds per pan at 50,000). Leaflet's Renderer positions the
  // canvas and animates zooms. The canvas lets the mouse through
  // (app.css); clicks are matched to points by pointAt.
  var PointLayer = L.Renderer.extend({
    options: { padding: 0.3 },

    initialize: function (options) {
      L.Renderer.prototype.initialize.call(this, options);
      this._assets = [];
      this._xs = new Float64Array(0);
      this._ys = new Float64Array(0);
      this._order = [];
    },

    // setPoints takes [{lat, lng, asset}].
    setPoints: function (list) {
      var n = list.length;
      this._assets = new Array(n);
      this._xs = new Float64Array(n);
      this._ys = new Float64Array(n);
      // Web Mercator at zoom 0 (256 px to the world), as map.project(ll, 0)
      // gives it, without its cost per call.
      var rad = Math.PI / 180;
      for (var i = 0; i < n; i++) {
        var lat = Math.max(Math.min(list[i].lat, 85.0511287798), -85.0511287798);
        this._xs[i] = 256 * (list[i].lng / 360 + 0.5);
        this._ys[i] = 256 * (0.5 - Math.log(Math.tan(Math.PI / 4 + lat * rad / 2)) / (2 * Math.PI));
        this._assets[i] = list[i].asset;
      }
      this.recolour();
    },

    // recolour groups the points by colour (the order they are drawn in).
    recolour: function () {
      var byColour = {};
      for (var i = 0; i < this._assets.length; i++) {
        var c = colourOf(this._assets[i]);
        (byColour[c] = byColour[c] || []).push(i);
      }
      this._order = Object.keys(byColour).map(function (c) {
        return { colour: c, idx: byColour[c] };
      });
      this.redraw();
    },

    redraw: function () {
      if (this._map) {
        this._draw();
      }
      return this;
    },

    size: function () {
      return this._assets.length;
    },

    _initContainer: function () {
      this._container = document.createElement('canvas');
      this._container.className = 'map-points';
      this._ctx = this._container.getContext('2d');
    },

    _destroyContainer: function () {
      L.DomUtil.remove(this._container);
      delete this._ctx;
      delete this._container;
    },

    _update: function () {
      if (this._map._animatingZoom && this._bounds) {
        return;
      }
      L.Renderer.prototype._update.call(this);
      var b = this._bounds;
      var size = b.getSize();
      var m = L.Browser.retina ? 2 : 1;
      var c = this._container;
      L.DomUtil.setPosition(c, b.min);
      c.width = m * size.x;
      c.height = m * size.y;
      c.style.width = size.x + 'px';
      c.style.height = size.y + 'px';
      this._draw();
      this.fire('update');
    },

    _draw: function () {
      var ctx = this._ctx;
      var b = this._bounds;
      var m = L.Browser.retina ? 2 : 1;
      ctx.setTransform(m, 0, 0, m, 0, 0);
      ctx.clearRect(0, 0, b.getSize().x, b.getSize().y);
      var scale = Math.pow(2, this._map.getZoom());
      var origin = this._map.getPixelOrigin();
      var ox = origin.x + b.min.x;
      var oy = origin.y + b.min.y;
      var w = b.getSize().x;
      var h = b.getSize().y;
      var r = dotRadius();
      var xs = this._xs;
      var ys = this._ys;
      var assets = this._assets;
      ctx.lineWidth = 1;
      ctx.strokeStyle = '#222222';
      var coarse = [];
      this._order.forEach(function (group) {
        ctx.beginPath();
        group.idx.forEach(function (i) {
          var x = xs[i] * scale - ox;
          var y = ys[i] * scale - oy;
          if (x < -r || y < -r || x > w + r || y > h + r) {
            return;
          }
          ctx.moveTo(x + r, y);
          ctx.arc(x, y, r, 0, 2 * Math.PI);
          if (assets[i].coarse) {
            coarse.push(x, y);
          }
        });
        ctx.fillStyle = group.colour;
        ctx.fill();
        ctx.stroke();
      });
      // Rounded positions get a dashed ring around their dot.
      if (coarse.length) {
        ctx.beginPath();
        for (var k = 0; k < coarse.length; k += 2) {
          ctx.moveTo(coarse[k] + r + 2.5, coarse[k + 1]);
          ctx.arc(coarse[k], coarse[k + 1], r + 2.5, 0, 2 * Math.PI);
        }
        ctx.setLineDash([2, 2]);
        ctx.stroke();
        ctx.setLineDash([]);
      }
    },

    // pointAt is the index of the point drawn under a container point, the
    // nearest if several, or -1.
    pointAt: function (cp) {
      if (!this._map) {
        return -1;
      }
      var scale = Math.pow(2, this._map.getZoom());
      var lp = this._map.containerPointToLayerPoint(cp);
      var origin = this._map.getPixelOrigin();
      var px = lp.x + origin.x;
      var py = lp.y + origin.y;
      var reach = dotRadius() + 3;
      var best = -1;
      var bestD = reach * reach;
      for (var i = 0; i < this._xs.length; i++) {
        var dx = this._xs[i] * scale - px;
        var dy = this._ys[i] * scale - py;
        var dd = dx * dx + dy * dy;
        if (dd <= bestD) {
          best = i;
          bestD = dd;
        }
      }
      return best;
    },

    assetAt: function (i) {
      return this._assets[i];
    },

    latLngAt: function (i) {
      return map.unproject([this._xs[i], this._ys[i]], 0);
    }
  });

  // Points in a pane of their own above the lines (app.css places it).
  map.createPane('assetPoints');
  var points = new PointLayer({ pane: 'assetPoints' });
  var lines = L.featureGroup().addTo(map);
  points.addTo(map);
  map.assetPoints = points;

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

  // Lines are Leaflet polylines on the shared canvas renderer; byId holds
  // them: id → {layer, version}.
  var byId = new Map();

  function lineStyle(p) {
    return { color: colourOf(p), weight: 4, opacity: 0.9 };
  }

  function draw(features) {
    var pts = [];
    var seen = new Set();
    features.forEach(function (f) {
      var g = f.geometry;
      var p = f.properties || {};
      if (!g) {
        return;
      }
      if (g.type === 'Point') {
        pts.push({ lat: g.coordinates[1], lng: g.coordinates[0], asset: p });
        return;
      }
      if (g.type !== 'LineString' && g.type !== 'MultiLineString') {
        return;
      }
      var id = f.id != null ? f.id : p.id;
      seen.add(id);
      var known = byId.get(id);
      if (known && known.version === p.version) {
        return;
      }
      if (known) {
        lines.removeLayer(known.layer);
      }
      var opts = lineStyle(p);
      opts.renderer = renderer;
      opts.bubblingMouseEvents = false;
      var layer = L.polyline(L.GeoJSON.coordsToLatLngs(g.coordinates, g.type === 'MultiLineString' ? 1 : 0), opts);
      layer.asset = p;
      lines.addLayer(layer);
      byId.set(id, { layer: layer, version: p.version });
    });
    byId.forEach(function (entry, id) {
      if (!seen.has(id)) {
        lines.removeLayer(entry.layer);
        byId.delete(id);
      }
    });
    points.setPoints(pts);
  }

  function recolour() {
    byId.forEach(function (entry) {
      entry.layer.setStyle(lineStyle(entry.layer.asset));
    });
    points.recolour();
  }

  function shownCount() {
    return points.size() + byId.size;
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
      el.dataset.count = String(shownCount());
      setStatus('ready', d.tShown.replace('%s', numFmt.format(shownCount())));
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

  function openAsset(latlng, asset) {
    L.popup().setLatLng(latlng).setContent(assetPopup(asset)).openOn(map);
  }

  // A point drawn under the mouse wins over a line below it.
  function pointUnder(e) {
    if (!map.hasLayer(points)) {
      return -1;
    }
    return points.pointAt(e.containerPoint);
  }

  lines.on('click', function (e) {
    var i = pointUnder(e);
    if (i >= 0) {
      openAsset(points.latLngAt(i), points.assetAt(i));
    } else if (e.layer && e.layer.asset) {
      openAsset(e.latlng, e.layer.asset);
    }
  });

  // A click elsewhere: the point asset there, else the nearby search around
  // that point.
  map.on('click', function (e) {
    var i = pointUnder(e);
    if (i >= 0) {
      openAsset(points.latLngAt(i), points.assetAt(i));
      return;
    }
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

  // The pointer shows what can be clicked.
  var hoverQueued = false;
  map.on('mousemove', function (e) {
    if (hoverQueued) {
      return;
    }
    hoverQueued = true;
    window.requestAnimationFrame(function () {
      hoverQueued = false;
      L.DomUtil[pointUnder(e) >= 0 ? 'addClass' : 'removeClass'](el, 'map-hover');
    });
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
