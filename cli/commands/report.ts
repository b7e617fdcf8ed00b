/** `sana-lab report`: bench, parity and profile JSON → one self-contained HTML report, a Markdown summary, and optionally a PNG. */
import { generateReport } from '../../reports/generate.js';
import { existingPath, outputFile, parseArgs } from '../args.js';
import { UsageError, type Command } from '../command.js';

const USAGE = `usage: sana-lab report --in FILE... --out reports/NAME.html [--title TEXT] [--png FILE.png]

Reads results of \`sana-lab bench --json\`, \`sana-lab parity --json\` and \`sana-lab profile --json\`
(also bench/gpu/models.sh's merged profiles.json; told apart by their "format" field) and writes one
HTML file that opens offline (plotly.js inlined) with: throughput vs resolution per op and backend
(log-log), the roofline, time breakdowns of a DiT block, a DiT step and a DC-AE decode, the whole
model (step time, images/s, DC-AE decode time, host overhead and planned peak memory vs resolution,
the per-op breakdown of the step; extrapolated profiles labelled), speed-ups against the baselines of
the same run, the parity table, what did not run, and the environment. A Markdown summary is written
beside it (NAME.md).

  --in FILE...   input JSON files (repeat, comma-separate, or list them after --in)
  --out FILE     the HTML file to write (must end in .html)
  --title TEXT   the report's title
  --png FILE     also photograph the key charts (dit-block throughput, roofline, DiT block / step and
                 DC-AE decode breakdowns) into FILE with headless Chromium ($SANA_LAB_CHROMIUM, else
                 chromium / chromium-browser / google-chrome on PATH); exits 1 when none is installed`;

const SPEC = { in: { type: 'list' }, out: { type: 'string' }, title: { type: 'string' }, png: { type: 'string' } } as const;

export const reportCommand: Command = {
  name: 'report',
  summary: 'render bench/parity/profile JSON into one offline HTML report (plotly inlined) + Markdown summary (+ PNG)',
  usage: USAGE,
  async run(argv) {
    const a = parseArgs('report', argv, SPEC);
    // `--in a.json b.json` : files after the first are positionals.
    const inputs = [...(a.lists.get('in') ?? []), ...a.positionals];
    if (inputs.length === 0) throw new UsageError('report: give at least one input with --in FILE');
    for (const f of inputs) existingPath('report', 'in', f);
    const out = a.values.get('out');
    if (out === undefined) throw new UsageError('report: --out reports/NAME.html is required');
    if (!out.toLowerCase().endsWith('.html')) throw new UsageError(`report: --out must end in .html, got "${out}"`);
    outputFile('report', 'out', out);
    const png = a.values.get('png');
    if (png !== undefined && !png.toLowerCase().endsWith('.png')) throw new UsageError(`report: --png must end in .png, got "${png}"`);
    const title = a.values.get('title');
    // Chromium missing is reported after the HTML is written: the report itself does not need it.
    const r = generateReport({ inputs, out, ...(title !== undefined ? { title } : {}), ...(png !== undefined ? { png: 'if-available' as const, pngPath: png } : {}) });
    const m = r.model;
    console.log(
      `report: ${m.measured.length} timed records of ${m.records.length}, ${m.throughput.length} throughput chart(s), ` +
        `${m.roofline.length} roofline chart(s), ${m.breakdown.charts.length} breakdown(s), ${m.speedups.length} speed-up row(s), ${m.parity.length} parity row(s), ` +
        `${m.profiles.runs.length} whole-model profile(s) in ${m.profileInputs.length} file(s)`,
    );
    console.log(`wrote ${r.html}\nwrote ${r.markdown}`);
    if (r.png !== undefined && 'skipped' in r.png) {
      console.error(`report: cannot write ${png}: ${r.png.skipped}`);
      return 1;
    }
    if (r.png !== undefined) console.log(`wrote ${r.png.path} (${(r.png.bytes / 1024).toFixed(0)} KiB: ${r.png.charts.join('; ')})`);
    return 0;
  },
};
