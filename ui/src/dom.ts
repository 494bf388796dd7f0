/**
 * The only way the UI makes DOM: elements with attributes set one by one and
 * text as text nodes. No innerHTML, no URL-carrying or event attributes, so
 * message text can never become markup or script.
 */

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | undefined>;

const SVG_NS = "http://www.w3.org/2000/svg";

/** Attributes that could load or run something: never set from here. */
function checkAttr(name: string): void {
  const n = name.toLowerCase();
  if (
    n.startsWith("on") ||
    n === "href" ||
    n === "src" ||
    n === "xlink:href" ||
    n === "style" ||
    n === "srcdoc"
  )
    throw new Error(`attribute ${name} is not allowed`);
}

function apply(node: Element, attrs: Attrs, children: Child[]): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    checkAttr(k);
    node.setAttribute(k, v === true ? "" : String(v));
  }
  append(node, children);
}

export function append(node: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  apply(node, attrs, children);
  return node;
}

export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  apply(node, attrs, children);
  return node;
}

/** Replaces every child of `node`. */
export function replace(node: Node, ...children: Child[]): void {
  while (node.firstChild) node.removeChild(node.firstChild);
  append(node, children);
}
