import { describe, expect, it } from 'vitest';
import type { TopLevelSpec } from 'vega-lite';
import { InvariantError } from '../../src/core/errors.ts';
import { namespaceSvgIds, renderSvg } from '../../src/report/render.ts';
import { flowChart, scheduleChart } from '../../src/report/charts.ts';

describe('Vega-Lite to SVG', () => {
  it('renames ids and their references in order of appearance', () => {
    const svg = '<svg><defs><clipPath id="clip7"><rect/></clipPath><linearGradient id="g"/></defs><g clip-path="url(#clip7)"><use href="#g"/></g></svg>';
    expect(namespaceSvgIds(svg, 'flow')).toBe(
      '<svg><defs><clipPath id="flow-d0"><rect/></clipPath><linearGradient id="flow-d1"/></defs><g clip-path="url(#flow-d0)"><use href="#flow-d1"/></g></svg>',
    );
    expect(namespaceSvgIds('<svg><g/></svg>', 'x')).toBe('<svg><g/></svg>');
  });

  it('renders the same bytes whatever was rendered before (no process-wide counter leaks in)', async () => {
    const flow = flowChart(
      [
        { bar: 'web', segment: 'placed', tokens: 900 },
        { bar: 'web', segment: 'over_budget', tokens: 100 },
      ],
      'flow',
    );
    const first = await renderSvg(flow, 'flow');
    await renderSvg(scheduleChart([{ step: 0, window: 'long', rows: 3 }], 4), 'schedule');
    expect(await renderSvg(flow, 'flow')).toBe(first);
    expect(first.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    // Two bars' segments, drawn as paths with the fixed colours of "placed" and "over budget".
    expect(first).toContain('fill="#4c78a8"');
    expect(first).toContain('fill="#eeca3b"');
    expect(first).not.toMatch(/id="(?!flow-)/);
  });

  it('refuses a spec that Vega-Lite warns about, naming the chart', async () => {
    const bad = { data: { values: [{ a: 1 }] }, mark: 'bar', encoding: { shape: { field: 'a', type: 'nominal' } } } as TopLevelSpec;
    const error = await renderSvg(bad, 'bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvariantError);
    expect((error as Error).message).toMatch(/^report chart "bad" could not be rendered: .*shape/);
  });
});
