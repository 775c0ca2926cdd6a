/** Small stroke icons as SVG elements (no icon font: headless and minimal systems lack emoji). */

const SVG_NS = "http://www.w3.org/2000/svg";

const SHAPES = {
  microphone: '<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>',
  camera: '<rect x="3" y="7" width="12" height="10" rx="2"/><path d="M15 11l6-3v8l-6-3z"/>',
} as const;

export type IconName = keyof typeof SHAPES;

/** An icon, struck through when `off`. Decorative: the caller provides the words. */
export function icon(name: IconName, off = false): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "2");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("aria-hidden", "true");
  svg.innerHTML = SHAPES[name] + (off ? '<path d="M3 3l18 18"/>' : "");
  return svg;
}
