// Drawing a notice's area on the map with plain clicks (no plugin): a polygon (vertices,
// then Finish), a circle (centre, then a second click or the radius field), a corridor
// (a line of vertices, then Finish, with a width in NM).
import { areaLayers, L, NM_M } from "./map.js";

export class Drawer {
  constructor(view, { onChange }) {
    this.view = view;
    this.onChange = onChange;
    this.shape = "polygon";
    this.points = []; // [lat, lng]
    this.drawing = false;
    this.done = false;
    this.radiusNm = 10;
    this.widthNm = 10;
    view.map.on("click", (e) => this.click(e.latlng));
    view.map.on("dblclick", (e) => {
      if (this.drawing && this.shape !== "circle") {
        L.DomEvent.stop(e);
        this.finish();
      }
    });
  }

  setShape(shape) {
    this.shape = shape;
    this.clear();
  }

  start() {
    this.clear();
    this.drawing = true;
    this.view.map.doubleClickZoom.disable();
    this.view.map.getContainer().classList.add("drawing");
    this.changed();
  }

  click(latlng) {
    if (!this.drawing) return;
    const p = [latlng.lat, latlng.lng];
    if (this.shape === "circle") {
      if (this.points.length === 0) {
        this.points = [p];
      } else {
        this.radiusNm = Math.max(0.1, Math.round((this.view.map.distance(this.points[0], p) / NM_M) * 10) / 10);
        this.finish();
        return;
      }
    } else {
      this.points.push(p);
    }
    this.changed();
  }

  canFinish() {
    const need = { polygon: 3, circle: 1, corridor: 2 }[this.shape];
    return this.drawing && this.points.length >= need;
  }

  finish() {
    if (!this.canFinish()) return;
    this.drawing = false;
    this.done = true;
    this.view.map.doubleClickZoom.enable();
    this.view.map.getContainer().classList.remove("drawing");
    this.changed();
  }

  clear() {
    this.points = [];
    this.drawing = false;
    this.done = false;
    this.view.map.doubleClickZoom.enable();
    this.view.map.getContainer().classList.remove("drawing");
    this.changed();
  }

  setRadius(nm) {
    this.radiusNm = nm;
    this.render();
  }

  setWidth(nm) {
    this.widthNm = nm;
    this.render();
  }

  /** The drawn area as the API takes it, or null while there is none. */
  area() {
    if (!this.done) return null;
    const lonlat = this.points.map(([lat, lng]) => [round(lng), round(lat)]);
    if (this.shape === "polygon") return { type: "Polygon", coordinates: [[...lonlat, lonlat[0]]] };
    if (this.shape === "circle") return { type: "Circle", center: lonlat[0], radius_nm: this.radiusNm };
    return { type: "Corridor", coordinates: lonlat, half_width_nm: this.widthNm / 2 };
  }

  changed() {
    this.render();
    this.onChange(this);
  }

  render() {
    const layer = this.view.draft;
    layer.clearLayers();
    const style = { color: "#0b6e99", weight: 2, fillOpacity: 0.15, dashArray: "5 4", className: "draft" };
    const area = this.area();
    if (area) {
      for (const l of areaLayers(area, style)) layer.addLayer(l);
    } else if (this.points.length) {
      if (this.shape === "circle") {
        L.circle(this.points[0], { ...style, radius: this.radiusNm * NM_M }).addTo(layer);
      } else {
        L.polyline(this.points, style).addTo(layer);
      }
    }
    for (const p of this.points) {
      L.circleMarker(p, { radius: 4, color: "#0b6e99", fillOpacity: 1, className: "draft-vertex", interactive: false }).addTo(layer);
    }
  }
}

function round(x) {
  return Math.round(x * 1e5) / 1e5;
}
