// The page's two small charts, drawn as SVG by hand (no library, nothing to download):
// events per minute by type over the last hour (stacked bars), and rings per bell.

const SVG = 'http://www.w3.org/2000/svg';
// Okabe-Ito: told apart with most kinds of colour blindness.
const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#7a6a00'];
const OTHER_COLOR = '#8a8a8a';
const colors = new Map();

/** One colour per type, kept for the life of the page so bars do not change colour as counts move. */
export function colorFor(type) {
  if (!colors.has(type)) colors.set(type, colors.size < PALETTE.length ? PALETTE[colors.size] : OTHER_COLOR);
  return colors.get(type);
}

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function hhmm(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
}

/**
 * Draws `minutes` ([{start, counts: {type: n}}], oldest first) into `svg`.
 * Returns the types with their totals and colours, biggest first, for the legend.
 */
export function drawEventsChart(svg, minutes) {
  const width = 640;
  const height = 170;
  const left = 34;
  const right = 8;
  const top = 10;
  const bottom = 22;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);

  const totals = new Map();
  let peak = 0;
  for (const m of minutes) {
    let sum = 0;
    for (const [type, n] of Object.entries(m.counts)) {
      totals.set(type, (totals.get(type) ?? 0) + n);
      sum += n;
    }
    peak = Math.max(peak, sum);
  }
  const types = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([t]) => t);
  const yMax = Math.max(1, peak);
  const barW = plotW / Math.max(1, minutes.length);

  svg.append(el('line', { x1: left, y1: top + plotH, x2: width - right, y2: top + plotH, class: 'axis' }));
  svg.append(el('text', { x: left - 6, y: top + 4, class: 'tick', 'text-anchor': 'end' }, String(yMax)));
  svg.append(el('text', { x: left - 6, y: top + plotH, class: 'tick', 'text-anchor': 'end' }, '0'));
  svg.append(el('line', { x1: left, y1: top, x2: width - right, y2: top, class: 'grid' }));

  minutes.forEach((m, i) => {
    const x = left + i * barW;
    const group = el('g', { class: 'minute' });
    const parts = types.filter((t) => m.counts[t]).map((t) => `${t} ${m.counts[t]}`);
    group.append(el('title', {}, `${hhmm(m.start)}: ${parts.length ? parts.join(', ') : 'no events'}`));
    let y = top + plotH;
    for (const type of types) {
      const n = m.counts[type];
      if (!n) continue;
      const h = (n / yMax) * plotH;
      y -= h;
      group.append(el('rect', { x: x + 0.5, y, width: Math.max(1, barW - 1), height: h, fill: colorFor(type), 'data-type': type }));
    }
    svg.append(group);
    const fromEnd = minutes.length - 1 - i;
    if (fromEnd % 15 === 0 || i === 0) {
      const label = i === 0 ? '1 h ago' : fromEnd === 0 ? 'now' : `${fromEnd} min ago`;
      svg.append(el('text', { x: x + barW / 2, y: height - 6, class: 'tick', 'text-anchor': i === 0 ? 'start' : fromEnd === 0 ? 'end' : 'middle' }, label));
    }
  });
  return types.map((type) => ({ type, total: totals.get(type), color: colorFor(type) }));
}

/** Draws horizontal bars of rings per bell ({deviceId: n}) into `svg`. */
export function drawRingsChart(svg, rings) {
  const entries = Object.entries(rings).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const width = 640;
  const row = 24;
  const labelW = 150;
  const height = Math.max(1, entries.length) * row + 4;
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  entries.forEach(([device, n], i) => {
    const y = i * row + 2;
    const w = ((width - labelW - 50) * n) / max;
    const group = el('g', { class: 'bell-bar' });
    group.append(el('title', {}, `${device}: ${n} ring${n === 1 ? '' : 's'} in the last hour`));
    group.append(el('text', { x: labelW - 8, y: y + 15, class: 'label', 'text-anchor': 'end' }, device));
    group.append(el('rect', { x: labelW, y: y + 3, width: Math.max(1, w), height: row - 8, class: 'ring-bar' }));
    group.append(el('text', { x: labelW + w + 6, y: y + 15, class: 'label' }, String(n)));
    svg.append(group);
  });
}
