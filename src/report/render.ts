/**
 * Vega-Lite → Vega → SVG, headless (no browser, no canvas): `vega-lite` compiles a spec, a `vega`
 * View with `renderer: 'none'` renders it with `toSVG()`. Without the optional `canvas` package
 * Vega estimates text widths from character counts, so the output depends only on the spec and
 * the library versions: the same data gives the same bytes on any machine.
 *
 * Vega numbers clip paths and gradients from a process-wide counter (`clip1`, `clip2`, …); each
 * SVG's ids are renamed in order of appearance to `<idPrefix>-d0`, `-d1`, …, so a chart's bytes
 * do not depend on what was rendered before it, and two charts in one page never share an id.
 */
import { logger, parse, View, Warn } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { InvariantError } from '../core/errors.ts';

/**
 * Renames every `id="…"` of `svg` and its references (`url(#…)`, `href="#…"`) to `<prefix>-dN`,
 * N by order of first appearance.
 */
export function namespaceSvgIds(svg: string, prefix: string): string {
  const ids = new Map<string, string>();
  for (const match of svg.matchAll(/\sid="([^"]+)"/g)) if (!ids.has(match[1])) ids.set(match[1], `${prefix}-d${ids.size}`);
  if (ids.size === 0) return svg;
  return svg.replace(/(\sid="|url\(#|href="#)([^")]+)/g, (all, lead: string, id: string) => (ids.has(id) ? `${lead}${ids.get(id)}` : all));
}

/**
 * Renders a Vega-Lite spec to an SVG string.
 * @param idPrefix - unique within the page (letters, digits, `-`).
 * @throws InvariantError when Vega-Lite or Vega cannot render the spec or warns about it (a bug of
 *   the report's specs: a warning is never printed and ignored).
 */
export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const warnings: string[] = [];
  const log = logger(Warn, undefined, (_method: string, _level: string, input: ArrayLike<unknown>) => void warnings.push(Array.from(input).join(' ')));
  let view: View | undefined;
  try {
    view = new View(parse(compile(spec, { logger: log }).spec), { renderer: 'none', logger: log });
    const svg = await view.toSVG();
    if (warnings.length) throw new Error(warnings.join('; '));
    return namespaceSvgIds(svg, idPrefix);
  } catch (error) {
    throw new InvariantError(`report chart "${idPrefix}" could not be rendered: ${(error as Error).message}`, { chart: idPrefix }, { cause: error });
  } finally {
    view?.finalize();
  }
}
