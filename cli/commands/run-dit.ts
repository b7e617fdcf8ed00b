/**
 * `sana-lab run dit`: one forward pass of SANA's Linear DiT (diffusers SanaTransformer2DModel) on
 * tensors read from a safetensors file, output written to another. --backend picks the pure-TypeScript
 * `reference` (default) or the native runner (bindings/models/dit-runner.ts) on `cpu`.
 */
import { backendOption } from '../backend-option.js';
import { UsageError } from '../command.js';
import { existingPath, outputFile, parseArgs } from '../args.js';
import { requireFiniteInput, requireFiniteOutput } from '../finite.js';
import { SafetensorsFile, writeSafetensors } from '../../reference/core/safetensors.js';
import { shapeStr, type Tensor } from '../../reference/core/tensor.js';
import { SanaTransformer2DModel } from '../../reference/dit/model.js';
import { LINEAR_ATTENTION_EPS_DIFFUSERS, LINEAR_ATTENTION_EPS_SANA } from '../../reference/ops/linear-attention.js';
import { loadSanaTransformerConfig } from '../../reference/dit/config.js';
import { loadSanaTransformerWeights } from '../../reference/dit/weights.js';
import { NativeSanaTransformer, type DitBlockMode } from '../../bindings/models/dit-runner.js';

const CMD = 'run dit';

/** Backends `run dit` knows; only these names are accepted. */
export const RUN_DIT_BACKENDS = ['reference', 'cpu', 'cuda'] as const;

/** Input roles and the tensor names read by default. */
const ROLES = ['hidden_states', 'timestep', 'encoder_hidden_states', 'encoder_attention_mask'] as const;
type Role = (typeof ROLES)[number];

/** One line for a `run` command's help. */
export const RUN_DIT_SUMMARY = 'one SANA DiT forward pass on tensors from a safetensors file';

export const RUN_DIT_USAGE = `usage: sana-lab run dit --config C.json --weights W.safetensors --inputs I.safetensors --out O.safetensors
                      [--backend reference|cpu|cuda] [--dtype f32|bf16] [--block-mode dit-block|ops]
                      [--input NAME | --input ROLE=NAME ...] [--output NAME]
                      [--accumulate f64|f32] [--eps diffusers|sana|NUMBER]

Runs one forward pass of the SANA Linear DiT (diffusers SanaTransformer2DModel) and writes the
predicted velocity as F32.

  --config PATH     the transformer's diffusers config.json
  --weights PATH    its safetensors checkpoint, diffusers key names (F32/F16/BF16/F64)
  --inputs PATH     safetensors with hidden_states (B,C,H,W), timestep (B), encoder_hidden_states
                    (B,L,D) and, if present, encoder_attention_mask (B,L) (1 keep, 0 masked)
  --out PATH        where to write the output (B,C_out,H,W), F32
  --backend NAME    reference (pure TypeScript, default), cpu or cuda (the native runner: native ops,
                    weights uploaded once, reused activation buffers; on cuda the ops are queued and
                    synchronized once per forward)
  --dtype D         cpu/cuda: storage dtype of weights and activations, f32 (default) or bf16
  --block-mode M    cpu/cuda: dit-block (one native op per block, default) or ops (the block's ops one by one)
  --input NAME      read the latent from tensor NAME instead of hidden_states; ROLE=NAME renames any
                    input (roles: ${ROLES.join(', ')}); repeatable
  --output NAME     name of the written tensor (default output)
  --accumulate A    reduction accumulator of the reference backend: f64 (default) or f32
  --eps E           linear-attention eps: diffusers (1e-15, default), sana (1e-8) or a number`;

function parseInputNames(values: string[]): Map<Role, string> {
  const names = new Map<Role, string>(ROLES.map((r) => [r, r]));
  for (const v of values) {
    const eq = v.indexOf('=');
    const role = (eq === -1 ? 'hidden_states' : v.slice(0, eq)) as Role;
    const name = eq === -1 ? v : v.slice(eq + 1);
    if (!ROLES.includes(role)) throw new UsageError(`${CMD}: --input ${v}: unknown role "${role}" (roles: ${ROLES.join(', ')})`);
    if (name === '') throw new UsageError(`${CMD}: --input ${v}: empty tensor name`);
    names.set(role, name);
  }
  return names;
}

function parseEps(v: string | undefined): number {
  if (v === undefined || v === 'diffusers') return LINEAR_ATTENTION_EPS_DIFFUSERS;
  if (v === 'sana') return LINEAR_ATTENTION_EPS_SANA;
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${CMD}: --eps must be diffusers, sana or a positive number, got "${v}"`);
  return n;
}

/** `sana-lab run dit …`; resolves to the exit code (errors on bad input are thrown). */
export async function runDit(argv: string[]): Promise<number> {
  const args = parseArgs(CMD, argv, {
    config: { type: 'string' },
    weights: { type: 'string' },
    inputs: { type: 'string' },
    out: { type: 'string' },
    backend: { type: 'string' },
    input: { type: 'list' },
    output: { type: 'string' },
    accumulate: { type: 'string' },
    eps: { type: 'string' },
    dtype: { type: 'string' },
    'block-mode': { type: 'string' },
  });
  if (args.positionals.length > 0) throw new UsageError(`${CMD}: unexpected argument "${args.positionals[0]}"`);
  const need = (k: string): string => {
    const v = args.values.get(k);
    if (v === undefined) throw new UsageError(`${CMD}: --${k} is required (see sana-lab run dit --help)`);
    return v;
  };
  const [configPath, weightsPath, inputsPath, outPath] = [need('config'), need('weights'), need('inputs'), need('out')];
  const backend = backendOption(CMD, args.values.get('backend'), RUN_DIT_BACKENDS, 'reference');
  const accumulate = args.values.get('accumulate') ?? 'f64';
  if (accumulate !== 'f64' && accumulate !== 'f32') throw new UsageError(`${CMD}: --accumulate must be f64 or f32, got "${accumulate}"`);
  const native = backend !== 'reference';
  if (native && args.values.has('accumulate')) throw new UsageError(`${CMD}: --accumulate applies to the reference backend only (native kernels accumulate in f32)`);
  for (const k of ['dtype', 'block-mode']) if (!native && args.values.has(k)) throw new UsageError(`${CMD}: --${k} applies to native backends only (not ${backend})`);
  const dtype = args.values.get('dtype') ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'bf16') throw new UsageError(`${CMD}: --dtype must be f32 or bf16, got "${dtype}"`);
  const blockMode = args.values.get('block-mode') ?? 'dit-block';
  if (blockMode !== 'dit-block' && blockMode !== 'ops') throw new UsageError(`${CMD}: --block-mode must be dit-block or ops, got "${blockMode}"`);
  const eps = parseEps(args.values.get('eps'));
  const names = parseInputNames(args.lists.get('input') ?? []);
  const outputName = args.values.get('output') ?? 'output';
  if (outputName === '') throw new UsageError(`${CMD}: --output needs a tensor name`);
  for (const [k, p] of [['config', configPath], ['weights', weightsPath], ['inputs', inputsPath]] as const) existingPath(CMD, k, p);
  outputFile(CMD, 'out', outPath);

  const file = SafetensorsFile.open(inputsPath);
  let inputs: Map<Role, Tensor>;
  try {
    inputs = new Map();
    for (const role of ROLES) {
      const name = names.get(role)!;
      if (file.has(name)) inputs.set(role, file.tensor(name));
      else if (role !== 'encoder_attention_mask' || name !== role) {
        throw new Error(`${CMD}: ${inputsPath} has no tensor "${name}" (role ${role}); it holds: ${file.names().join(', ')}`);
      }
    }
  } finally {
    file.close();
  }
  for (const [role, t] of inputs) requireFiniteInput(CMD, `input "${names.get(role)}" (role ${role})`, t);

  let model: { forward(inputs: Parameters<SanaTransformer2DModel['forward']>[0]): Tensor; dispose?(): void };
  if (native) {
    const cfg = loadSanaTransformerConfig(configPath);
    const m = NativeSanaTransformer.fromStateDict(cfg, loadSanaTransformerWeights(cfg, weightsPath), { backend, dtype, blockMode: blockMode as DitBlockMode, linearAttentionEps: eps }, weightsPath);
    model = { forward: (inputs) => m.forward(inputs), dispose: () => m.dispose() };
  } else {
    const m = SanaTransformer2DModel.fromFiles(configPath, weightsPath);
    model = { forward: (inputs) => m.forward(inputs, { accumulate, linearAttentionEps: eps }) };
  }
  const started = performance.now();
  let output: Tensor;
  try {
    output = model.forward({
      hiddenStates: inputs.get('hidden_states')!,
      timestep: inputs.get('timestep')!,
      encoderHiddenStates: inputs.get('encoder_hidden_states')!,
      encoderAttentionMask: inputs.get('encoder_attention_mask') ?? null,
    });
  } finally {
    model.dispose?.();
  }
  const seconds = (performance.now() - started) / 1000;
  requireFiniteOutput(CMD, 'the output', output, outPath);
  writeSafetensors(outPath, new Map([[outputName, output]]), {
    backend,
    model: 'SanaTransformer2DModel',
    config: configPath,
    ...(native ? { dtype, block_mode: blockMode } : { accumulate }),
    linear_attention_eps: String(eps),
  });
  console.log(`run dit: ${backend} backend${native ? ` (${dtype}, ${blockMode})` : ''}, ${shapeStr(output.shape)} → ${outPath} (${outputName}) in ${seconds.toFixed(2)} s`);
  return 0;
}
