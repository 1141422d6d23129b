/**
 * HTML building blocks of the report: escaping, tables, sections, and the page shell with its
 * inline style sheet. No script, no external resource: the page renders offline as it is.
 */
import { REPORT_BUILD_META } from '../manifest/identity.ts';

/** Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A cell of {@link htmlTable}: text (escaped), or a number (formatted en-US, right-aligned). */
export type TableCell = string | number;

/**
 * A table with a header row; numbers are right-aligned with thousands separators.
 * @param caption - optional caption text (escaped).
 */
export function htmlTable(header: readonly string[], rows: readonly (readonly TableCell[])[], caption?: string): string {
  const cell = (tag: 'td' | 'th', value: TableCell) =>
    typeof value === 'number' ? `<${tag} class="num">${value.toLocaleString('en-US')}</${tag}>` : `<${tag}>${escapeHtml(value)}</${tag}>`;
  return [
    '<table>',
    caption ? `<caption>${escapeHtml(caption)}</caption>` : '',
    `<thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((v) => cell('td', v)).join('')}</tr>`).join('\n')}</tbody>`,
    '</table>',
  ].join('');
}

/** A chart: its rendered SVG in a figure with a caption (escaped). */
export function figure(id: string, svg: string, caption: string): string {
  return `<figure class="chart" id="${escapeHtml(id)}">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/** A section with a heading, an anchor id and body HTML. */
export function section(id: string, heading: string, body: string): string {
  return `<section id="${escapeHtml(id)}"><h2>${escapeHtml(heading)}</h2>\n${body}\n</section>`;
}

/** A paragraph of escaped text. */
export const para = (text: string, cls?: string) => `<p${cls ? ` class="${cls}"` : ''}>${escapeHtml(text)}</p>`;

/** The page's generator mark: `writeReport` replaces only a report.html that carries it. */
export const REPORT_GENERATOR = 'longmix report';

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d2330; margin: 0; background: #f6f7f9; }
header { background: #1d2330; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 0; color: #c9d1e0; }
nav { padding: 8px 28px; background: #e8ebf0; font-size: 13px; }
nav a { margin-right: 14px; color: #2a4f86; text-decoration: none; }
main { padding: 8px 28px 40px; max-width: 1180px; }
section { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 12px 18px; margin: 16px 0; }
h2 { font-size: 17px; margin: 4px 0 10px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
.kpis { display: flex; flex-wrap: wrap; gap: 10px; margin: 6px 0 10px; }
.kpi { border: 1px solid #dde1e7; border-radius: 5px; padding: 6px 12px; min-width: 120px; }
.kpi b { display: block; font-size: 18px; }
.kpi span { font-size: 12px; color: #5a6475; }
.notes li { margin: 3px 0; }
.ok { color: #2e7d32; }
.grid { display: flex; flex-wrap: wrap; gap: 8px 22px; align-items: flex-start; }
figure.chart { margin: 8px 0; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 12px; color: #5a6475; max-width: 760px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 12.5px; }
caption { text-align: left; font-size: 12px; color: #5a6475; padding-bottom: 4px; }
th, td { border-bottom: 1px solid #e3e6eb; padding: 3px 9px; text-align: left; white-space: nowrap; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono, td code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.muted { color: #5a6475; font-size: 12.5px; }
.wide { overflow-x: auto; }
`;

/**
 * The whole page.
 * @param title - page and header title (escaped); `subtitle` likewise.
 * @param sections - section HTML, in order; `nav` lists their ids and headings.
 * @param buildSha256 - the digest of the build the page shows (src/manifest/identity.ts).
 */
export function page(
  title: string,
  subtitle: string,
  nav: readonly { id: string; heading: string }[],
  sections: readonly string[],
  buildSha256: string,
): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="${REPORT_GENERATOR}">`,
    `<meta name="${REPORT_BUILD_META}" content="${buildSha256}">`,
    // No network at view time: nothing may be fetched, not even a favicon.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<link rel="icon" href="data:,">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<header><h1>${escapeHtml(title)}</h1><p>${escapeHtml(subtitle)}</p></header>`,
    `<nav>${nav.map((n) => `<a href="#${escapeHtml(n.id)}">${escapeHtml(n.heading)}</a>`).join('')}</nav>`,
    '<main>',
    ...sections,
    '</main></body></html>',
    '',
  ].join('\n');
}
