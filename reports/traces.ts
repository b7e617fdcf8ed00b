/** Plotly trace builders shared by the report's charts. */

/** A named line with markers; `hovertemplate` says how a point reads (its `text` is the case). */
export function lineTrace(s: { name: string; x: readonly (number | string)[]; y: readonly number[]; text: readonly string[] }, hovertemplate: string): Record<string, unknown> {
  return { type: 'scatter', mode: 'lines+markers', name: s.name, x: s.x, y: s.y, text: s.text, hovertemplate };
}
