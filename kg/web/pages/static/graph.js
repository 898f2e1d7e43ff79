// The graph view: an entity's neighbourhood drawn as SVG. A small force layout (repulsion between nodes, springs
// along edges, a pull to the middle) runs a fixed number of steps from a deterministic start, so the same data
// always gives the same picture. Nodes can be dragged; selecting one opens its page.
(() => {
  "use strict";
  const holder = document.getElementById("network");
  const source = document.getElementById("network-data");
  if (!holder || !source) return;
  const data = JSON.parse(source.textContent);
  const SVG = "http://www.w3.org/2000/svg";

  const nodes = data.nodes.map((n, i) => {
    const angle = (2 * Math.PI * i) / Math.max(1, data.nodes.length - 1);
    const ring = n.center ? 0 : 260 + 80 * (i % 3);
    return { ...n, x: ring * Math.cos(angle), y: ring * Math.sin(angle), vx: 0, vy: 0 };
  });
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges = data.edges
    .filter((e) => byId.has(e.source) && byId.has(e.target))
    .map((e) => ({ ...e, s: byId.get(e.source), t: byId.get(e.target) }));
  const degree = new Map();
  edges.forEach((e) => {
    degree.set(e.s, (degree.get(e.s) || 0) + 1);
    degree.set(e.t, (degree.get(e.t) || 0) + 1);
  });

  const step = (heat) => {
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) {
        const a = nodes[i], b = nodes[j];
        let dx = a.x - b.x, dy = a.y - b.y;
        let d2 = dx * dx + dy * dy;
        if (d2 < 1) { dx = 1; dy = 0; d2 = 1; }
        const force = 30000 / d2;
        const d = Math.sqrt(d2);
        a.vx += (dx / d) * force; a.vy += (dy / d) * force;
        b.vx -= (dx / d) * force; b.vy -= (dy / d) * force;
      }
    }
    edges.forEach((e) => {
      const dx = e.t.x - e.s.x, dy = e.t.y - e.s.y;
      const d = Math.max(1, Math.hypot(dx, dy));
      const pull = (d - 170) * 0.04;
      e.s.vx += (dx / d) * pull; e.s.vy += (dy / d) * pull;
      e.t.vx -= (dx / d) * pull; e.t.vy -= (dy / d) * pull;
    });
    nodes.forEach((n) => {
      n.vx -= n.x * 0.004; n.vy -= n.y * 0.006;
      if (n.center || n.fixed) { n.vx = 0; n.vy = 0; return; }
      const speed = Math.hypot(n.vx, n.vy);
      const limit = Math.min(speed, heat);
      if (speed > 0) { n.x += (n.vx / speed) * limit; n.y += (n.vy / speed) * limit; }
      n.vx *= 0.5; n.vy *= 0.5;
    });
  };
  for (let k = 0; k < 300; k++) step(40 * (1 - k / 300) + 1);

  // Stretch the layout to the shape of the box, then size the labels so they read at about 12 screen pixels.
  const wide = Math.max(1, holder.clientWidth) / Math.max(1, holder.clientHeight);
  const spanX = Math.max(1, ...nodes.map((n) => Math.abs(n.x)));
  const spanY = Math.max(1, ...nodes.map((n) => Math.abs(n.y)));
  const stretch = Math.min(1.8, Math.max(1, (wide * spanY) / spanX));
  nodes.forEach((n) => { n.x *= stretch; });
  const svg = document.createElementNS(SVG, "svg");
  const fit = () => {
    const xs = nodes.map((n) => n.x), ys = nodes.map((n) => n.y);
    const padX = 170, padY = 50;  // room for the labels, which hang centred under the nodes
    const x0 = Math.min(...xs) - padX, y0 = Math.min(...ys) - padY;
    const w = Math.max(...xs) - x0 + padX, h = Math.max(...ys) - y0 + padY + 20;
    svg.setAttribute("viewBox", `${x0} ${y0} ${w} ${h}`);
    const unitsPerPixel = Math.max(w / Math.max(1, holder.clientWidth), h / Math.max(1, holder.clientHeight));
    svg.setAttribute("font-size", String(Math.round(12 * unitsPerPixel)));
  };
  fit();
  const edgeLayer = document.createElementNS(SVG, "g");
  const nodeLayer = document.createElementNS(SVG, "g");
  svg.append(edgeLayer, nodeLayer);

  edges.forEach((e) => {
    const g = document.createElementNS(SVG, "g");
    g.setAttribute("class", e.promotionalOnly ? "edge promo" : "edge");
    const line = document.createElementNS(SVG, "line");
    line.setAttribute("stroke-width", String(Math.min(8, 1 + 1.5 * e.weight)));
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${e.s.label} ${e.label} ${e.t.label} (${e.weight} source${e.weight === 1 ? "" : "s"})`;
    line.append(title);
    g.append(line);
    edgeLayer.append(g);
    e.line = line;
  });

  const place = () => {
    edges.forEach((e) => {
      e.line.setAttribute("x1", e.s.x); e.line.setAttribute("y1", e.s.y);
      e.line.setAttribute("x2", e.t.x); e.line.setAttribute("y2", e.t.y);
    });
    nodes.forEach((n) => n.g.setAttribute("transform", `translate(${n.x},${n.y})`));
  };

  nodes.forEach((n) => {
    const g = document.createElementNS(SVG, "g");
    g.setAttribute("class", `node k-${n.kindClass}${n.center ? " center" : ""}`);
    g.setAttribute("tabindex", "0");
    g.setAttribute("role", "link");
    g.setAttribute("aria-label", `${n.label} (${n.kind})`);
    g.dataset.id = n.id;
    const radius = n.center ? 16 : 7 + Math.min(8, degree.get(n) || 0);
    const circle = document.createElementNS(SVG, "circle");
    circle.setAttribute("r", String(radius));
    const text = document.createElementNS(SVG, "text");
    text.setAttribute("x", "0");
    text.setAttribute("y", String(radius + 2));
    text.setAttribute("dy", "0.9em");
    text.setAttribute("text-anchor", "middle");
    text.textContent = n.label;
    g.append(circle, text);
    nodeLayer.append(g);
    n.g = g;

    let dragging = null;
    g.addEventListener("pointerdown", (event) => {
      const point = svg.createSVGPoint();
      const toLocal = (ev) => {
        point.x = ev.clientX; point.y = ev.clientY;
        return point.matrixTransform(svg.getScreenCTM().inverse());
      };
      const start = toLocal(event);
      dragging = { dx: n.x - start.x, dy: n.y - start.y, moved: false, toLocal };
      g.setPointerCapture(event.pointerId);
    });
    g.addEventListener("pointermove", (event) => {
      if (!dragging) return;
      const p = dragging.toLocal(event);
      n.x = p.x + dragging.dx; n.y = p.y + dragging.dy;
      dragging.moved = true;
      place();
    });
    g.addEventListener("pointerup", () => {
      const moved = dragging && dragging.moved;
      dragging = null;
      if (!moved) window.location.href = n.href;
    });
    g.addEventListener("keydown", (event) => {
      if (event.key === "Enter") window.location.href = n.href;
    });
  });
  place();
  holder.append(svg);
  holder.dataset.rendered = String(nodes.length);
})();
