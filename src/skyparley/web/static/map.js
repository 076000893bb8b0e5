// The map: offline basemap, zones, notices, protected areas, finding overlaps, aircraft with
// trails, and alert CPA lines. Shapes follow the API: GeoJSON Polygon/MultiPolygon/LineString
// ([lon, lat]), {type: "Circle", center, radius_nm}, {type: "Corridor", coordinates,
// half_width_nm}.
import * as L from "/static/leaflet/leaflet-src.esm.js";

export const NM_M = 1852;
const KT_MS = NM_M / 3600;
const R_EARTH = 6371008.8;

/** The point `dist_m` from (lat, lon) on bearing `brg_deg` (spherical Earth). */
export function destination(lat, lon, brgDeg, distM) {
  const d = distM / R_EARTH;
  const b = (brgDeg * Math.PI) / 180;
  const p1 = (lat * Math.PI) / 180;
  const l1 = (lon * Math.PI) / 180;
  const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
  const l2 =
    l1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
  return [(p2 * 180) / Math.PI, ((((l2 * 180) / Math.PI + 540) % 360) - 180)];
}

/** Where an aircraft state will be after `dt_s` seconds on its track and ground speed. */
export function extrapolate(state, dtS) {
  return destination(state.lat_deg, state.lon_deg, state.trk_deg, state.gs_kt * KT_MS * dtS);
}

function ringLatLngs(ring) {
  return ring.map(([lon, lat]) => [lat, lon]);
}

function corridorRings(coords, halfWidthM) {
  // one quadrilateral per leg in a local flat frame; round ends are circles (added apart)
  const rings = [];
  for (let i = 0; i + 1 < coords.length; i++) {
    const [lon0, lat0] = coords[i];
    const [lon1, lat1] = coords[i + 1];
    const k = Math.cos((((lat0 + lat1) / 2) * Math.PI) / 180);
    const dx = (lon1 - lon0) * k;
    const dy = lat1 - lat0;
    const len = Math.hypot(dx, dy) || 1;
    const off = (halfWidthM / R_EARTH) * (180 / Math.PI);
    const nx = (-dy / len) * off;
    const ny = (dx / len) * off;
    rings.push([
      [lat0 + ny, lon0 + nx / k],
      [lat1 + ny, lon1 + nx / k],
      [lat1 - ny, lon1 - nx / k],
      [lat0 - ny, lon0 - nx / k],
    ]);
  }
  return rings;
}

/** Leaflet layers drawing an area of the API with a path style. */
export function areaLayers(area, style) {
  if (!area) return [];
  switch (area.type) {
    case "Polygon":
      return [L.polygon(area.coordinates.map(ringLatLngs), style)];
    case "MultiPolygon":
      return [L.polygon(area.coordinates.map((p) => p.map(ringLatLngs)), style)];
    case "LineString":
      return [L.polyline(ringLatLngs(area.coordinates), style)];
    case "Circle":
      return [L.circle([area.center[1], area.center[0]], { ...style, radius: area.radius_nm * NM_M })];
    case "Corridor": {
      const hw = area.half_width_nm * NM_M;
      const out = corridorRings(area.coordinates, hw).map((r) => L.polygon(r, { ...style, stroke: false }));
      for (const [lon, lat] of area.coordinates) out.push(L.circle([lat, lon], { ...style, stroke: false, radius: hw }));
      out.push(L.polyline(ringLatLngs(area.coordinates), { ...style, fill: false, dashArray: "6 4" }));
      return out;
    }
    default:
      return [];
  }
}

const LEVEL_COLOUR = { advisory: "#d8b100", caution: "#f07800", warning: "#e0201b" };
export function levelColour(level) {
  return LEVEL_COLOUR[level] ?? "#888";
}

export class MapView {
  constructor(el) {
    this.map = L.map(el, { zoomSnap: 0.25, worldCopyJump: true, preferCanvas: false }).setView([35.0, 38.0], 7);
    this.map.attributionControl.setPrefix(false);
    this.map.attributionControl.addAttribution("Natural Earth");
    this.basemap = L.layerGroup().addTo(this.map);
    this.zones = L.layerGroup().addTo(this.map);
    this.notices = L.layerGroup().addTo(this.map);
    this.areas = L.layerGroup().addTo(this.map);
    this.findings = L.layerGroup().addTo(this.map);
    this.alerts = L.layerGroup().addTo(this.map);
    this.trails = L.layerGroup().addTo(this.map);
    this.aircraft = L.layerGroup().addTo(this.map);
    this.draft = L.layerGroup().addTo(this.map);
    this.labels = {};
  }

  setLabels(labels) {
    this.labels = labels;
  }

  async loadBasemap() {
    const r = await fetch("/static/basemap/countries.geojson");
    const fc = await r.json();
    L.geoJSON(fc, {
      interactive: false,
      style: { color: "#8a8f7a", weight: 0.8, fillColor: "#e9e6d8", fillOpacity: 1, className: "basemap" },
    }).addTo(this.basemap);
    this.map.getContainer().dataset.basemap = String(fc.features.length);
  }

  setZones(zones) {
    this.zones.clearLayers();
    for (const z of zones) {
      const line = z.kind === "line";
      const style = line
        ? { color: "#1f5fbf", weight: 3, dashArray: "10 6", className: `zone zone-${z.id}` }
        : { color: "#1f5fbf", weight: 2, fillOpacity: 0.06, dashArray: "4 4", className: `zone zone-${z.id}` };
      for (const layer of areaLayers(z.geometry, style)) {
        layer.bindTooltip(z.name, { sticky: true });
        this.zones.addLayer(layer);
      }
    }
  }

  setNotices(notices, describe) {
    this.notices.clearLayers();
    for (const n of notices) {
      n.notice.volumes.forEach((v, i) => {
        const style = { color: "#2a7d2e", weight: 2, fillOpacity: 0.12, className: `notice notice-${n.notice.id}` };
        for (const layer of areaLayers(v.area, style)) {
          layer.bindTooltip(describe(n.notice, v, i), { sticky: true });
          this.notices.addLayer(layer);
        }
      });
    }
  }

  setAreas(areas, describe) {
    this.areas.clearLayers();
    for (const a of areas) {
      const style = { color: "#6b2fa5", weight: 2, fillOpacity: 0.15, className: `protected-area area-${a.area.id}` };
      for (const layer of areaLayers(a.area.volume.area, style)) {
        layer.bindTooltip(describe(a.area), { sticky: true });
        this.areas.addLayer(layer);
      }
    }
  }

  setFindings(findings, describe) {
    this.findings.clearLayers();
    for (const f of findings) {
      if (!f.overlap) continue;
      const style = { color: "#c0392b", weight: 2, fillOpacity: 0.25, dashArray: "3 3", className: `finding finding-${f.id}` };
      for (const layer of areaLayers(f.overlap.area, style)) {
        layer.bindTooltip(describe(f), { sticky: true });
        this.findings.addLayer(layer);
      }
    }
  }

  setAircraft(list, trails, label) {
    this.aircraft.clearLayers();
    this.trails.clearLayers();
    for (const ac of list) {
      const cls = ac.own ? "own" : "other";
      const trail = trails.get(ac.id) ?? [];
      if (trail.length > 1) {
        L.polyline(trail, { color: ac.own ? "#1b4f9c" : "#8c1c13", weight: 1.5, opacity: 0.7, interactive: false, className: `trail trail-${cls}` }).addTo(this.trails);
      }
      const icon = L.divIcon({
        className: `aircraft aircraft-${cls}${ac.in_alert ? " in-alert" : ""}`,
        html: `<span class="glyph" style="transform: rotate(${ac.trk_deg - 90}deg)">&#x27A4;</span><span class="tag"></span>`,
        iconSize: [18, 18],
        iconAnchor: [9, 9],
      });
      const m = L.marker([ac.lat_deg, ac.lon_deg], { icon, keyboard: false, title: ac.id });
      m.addTo(this.aircraft);
      const tag = m.getElement()?.querySelector(".tag");
      if (tag) tag.textContent = label(ac);
      m.getElement()?.setAttribute("data-aircraft", ac.id);
    }
  }

  setAlerts(alerts, stateOf, describe) {
    this.alerts.clearLayers();
    alerts.forEach((a, rank) => {
      const [p, q] = a.pair.map((id) => stateOf(a, id));
      if (!p || !q) return;
      const colour = levelColour(a.level);
      const tcpa = Math.max(0, a.tcpa_s ?? 0);
      const cp = extrapolate(p, tcpa);
      const cq = extrapolate(q, tcpa);
      const cls = `cpa cpa-${a.level}`;
      L.polyline([[p.lat_deg, p.lon_deg], cp], { color: colour, weight: 1.5, dashArray: "4 4", className: cls }).addTo(this.alerts);
      L.polyline([[q.lat_deg, q.lon_deg], cq], { color: colour, weight: 1.5, dashArray: "4 4", className: cls }).addTo(this.alerts);
      L.polyline([cp, cq], { color: colour, weight: 4, className: cls })
        // the most urgent alert is labelled on the map; the others on hover
        .bindTooltip(describe(a), { permanent: rank === 0, sticky: rank > 0, direction: "top", className: `cpa-label level-${a.level}` })
        .addTo(this.alerts);
    });
  }
}

export { L };
