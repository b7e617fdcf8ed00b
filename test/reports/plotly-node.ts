/**
 * Load plotly.js in Node for its schema check (Plotly.validate), which needs no rendering: the DOM
 * globals plotly touches while loading are stubbed with inert proxies. Test-only.
 */
import { createRequire } from 'node:module';
import { plotlyBundlePath } from '../../reports/plotly.js';

type Validate = (data: unknown[], layout: unknown) => { msg: string }[] | undefined;

export function loadPlotlyValidate(): Validate {
  const inert = (): unknown =>
    new Proxy(function () {}, {
      get: (_t, k) => (k === Symbol.toPrimitive ? () => '' : inert()),
      apply: () => inert(),
      construct: () => inert() as object,
    });
  const g = globalThis as Record<string, unknown>;
  const stubs: Record<string, unknown> = {
    self: globalThis,
    window: globalThis,
    document: inert(),
    DOMParser: function () {
      return inert();
    },
    getComputedStyle: () => inert(),
    requestAnimationFrame: () => 0,
    Image: function () {
      return inert();
    },
    HTMLElement: function () {},
    location: { href: '' },
  };
  for (const [k, v] of Object.entries(stubs)) if (!(k in g)) g[k] = v;
  if (!('userAgent' in ((g.navigator as object | undefined) ?? {}))) {
    Object.defineProperty(g, 'navigator', { value: { userAgent: 'node' }, configurable: true });
  }
  const plotly = createRequire(import.meta.url)(plotlyBundlePath()) as { validate: Validate };
  return plotly.validate;
}
