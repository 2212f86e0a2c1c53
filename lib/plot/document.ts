/**
 * A DOM for Observable Plot outside a browser. Deno has no `document`; linkedom provides
 * one that is enough for Plot to build SVG elements, which then serialize to text.
 *
 * @example
 * ```ts
 * import { loadPlot } from "../deps.ts";
 * import { plotDocument } from "./document.ts";
 * const Plot = await loadPlot();
 * const document = await plotDocument();
 * const svg = Plot.plot({ document, marks: [Plot.dot([[1, 2], [2, 3]])] });
 * console.log(svg.outerHTML.slice(0, 4)); // "<svg"
 * ```
 * @module
 */

import { loadLinkedom } from "../deps.ts";

/** The SVG namespace, for `createElementNS` and the `xmlns` attribute of saved files. */
export const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * The part of a DOM element that blend's figures use. linkedom's elements (and a browser's)
 * have all of it; Deno's own types have no DOM, so this names what is relied on.
 */
export interface DomElement {
  /** The tag name (`svg`, `g`, `text`, ... ; linkedom keeps SVG names lower-case). */
  readonly tagName: string;
  /** The element and its content as markup. */
  readonly outerHTML: string;
  /** The child elements, in document order. */
  readonly children: ArrayLike<DomElement>;
  /** The text of the element and its descendants. */
  textContent: string | null;
  /** An attribute's value, or null when it is not set. */
  getAttribute(name: string): string | null;
  /** Set an attribute. */
  setAttribute(name: string, value: string): void;
  /** Remove an attribute. */
  removeAttribute(name: string): void;
  /** Append a node (moving it from where it was). */
  appendChild<T>(node: T): T;
  /** Remove this element from its parent. */
  remove(): void;
  /** The first descendant element matching a CSS selector, or null. */
  querySelector(selector: string): DomElement | null;
  /** Every descendant element matching a CSS selector. */
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}

/** The part of a DOM document that Observable Plot and blend's figures use. */
export interface PlotDocument {
  /** Create an element in a namespace (SVG elements use {@link SVG_NS}). */
  createElementNS(namespace: string, name: string): DomElement;
  /** Create an HTML element. */
  createElement(name: string): DomElement;
}

let cached: Promise<PlotDocument> | undefined;

/**
 * The shared linkedom document to pass to Observable Plot as `Plot.plot({ ..., document })`.
 * Created on the first call (loading linkedom then) and reused after; needs no permission.
 */
export function plotDocument(): Promise<PlotDocument> {
  cached ??= loadLinkedom().then(({ parseHTML }) => {
    const window = parseHTML("<!DOCTYPE html><html><head></head><body></body></html>");
    return (window as unknown as { document: PlotDocument }).document;
  }).catch((error) => {
    cached = undefined; // let a later call try again
    throw error;
  });
  return cached;
}
