import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../reference/core/safetensors.js';
import { Tensor } from '../../../reference/core/tensor.js';
import { randn } from '../../../reference/core/random.js';
import { FlowDPMSolverMultistepScheduler, FlowMatchEulerDiscreteScheduler } from '../../../reference/schedulers/index.js';
import { HfTokenizer, SANA_COMPLEX_HUMAN_INSTRUCTION } from '../../../reference/text/index.js';
import {
  checkSanaModelDir,
  ComponentWeights,
  loadSanaComponents,
  makeScheduler,
  SANA_SCHEDULER_CONFIG,
  tinyTokenizerConfig,
  tinyTokenizerJson,
  writeRandomModel,
} from '../../../reference/pipeline/index.js';

const made: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'sana-pipe-'));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** Every file under dir (relative path → bytes). */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
    try {
      out.set(rel, readFileSync(join(dir, rel)));
    } catch {
      /* a directory */
    }
  }
  return out;
}

describe('tiny tokenizer (Gemma layout, BPE trained on the instruction)', () => {
  const tk = new HfTokenizer(tinyTokenizerJson(400), tinyTokenizerConfig());

  it('is compact on the CHI, keeps BOS first, and lets the CHI trailing ▁ merge into the prompt', () => {
    const chi = SANA_COMPLEX_HUMAN_INSTRUCTION.join('\n');
    const ids = tk.encode(chi);
    expect(ids[0]).toBe(2);
    expect(ids.length).toBeLessThan(chi.length / 3);
    expect(tk.encode(chi + 'a').length).toBe(ids.length); // "▁" + "a" → "▁a": SANA's −2 holds
    expect(tk.padTokenId).toBe(0);
  });

  it('round-trips any text (byte fallback) and is deterministic', () => {
    const text = 'A Cyberpunk city — ünïcode, 東京 & digits 0123\nnew line';
    expect(tk.decode(tk.encode(text), true)).toBe(text);
    expect(JSON.stringify(tinyTokenizerJson(400))).toBe(JSON.stringify(tinyTokenizerJson(400)));
  });
});

describe('make-random-model output and model-directory checks', () => {
  let dir: string;
  beforeAll(() => {
    dir = join(tmp(), 'tiny');
    writeRandomModel(dir, 'tiny', 0);
  });

  it('writes the diffusers layout, loadable by the reference loaders', () => {
    expect(snapshot(dir).has('transformer/diffusion_pytorch_model.safetensors')).toBe(true);
    const paths = checkSanaModelDir(dir);
    expect(paths.schedulerConfig.endsWith(join('scheduler', 'scheduler_config.json'))).toBe(true);
    const c = loadSanaComponents(dir);
    expect(c.vae.spatialCompressionRatio).toBe(32);
    expect(c.vae.part).toBe('decoder');
    expect(c.transformer.config.captionChannels).toBe(c.textEncoder.config.hiddenSize);
    expect(c.textEncoder.config.vocabSize).toBe(c.tokenizer.vocabSize);
    expect(c.schedulerConfig).toEqual(SANA_SCHEDULER_CONFIG);
  });

  it('is deterministic from the seed: same seed same bytes, another seed other weights', () => {
    const again = join(tmp(), 'tiny');
    writeRandomModel(again, 'tiny', 0);
    const a = snapshot(dir);
    const b = snapshot(again);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, v] of a) expect(Buffer.compare(v, b.get(k)!), k).toBe(0);
    const other = join(tmp(), 'tiny');
    writeRandomModel(other, 'tiny', 1);
    const c = snapshot(other);
    expect(Buffer.compare(a.get('transformer/diffusion_pytorch_model.safetensors')!, c.get('transformer/diffusion_pytorch_model.safetensors')!)).not.toBe(0);
    expect(Buffer.compare(a.get('transformer/config.json')!, c.get('transformer/config.json')!)).toBe(0);
    expect(() => writeRandomModel(dir, 'tiny', 0)).toThrow(/not empty/);
    expect(() => writeRandomModel(join(tmp(), 'x'), 'huge', 0)).toThrow(/unknown random-model preset "huge"/);
  });

  it('reports every missing piece of an incomplete directory at once', () => {
    expect(() => checkSanaModelDir(join(dir, 'nope'))).toThrow(/does not exist/);
    const broken = join(tmp(), 'broken');
    cpSync(dir, broken, { recursive: true });
    rmSync(join(broken, 'vae', 'diffusion_pytorch_model.safetensors'));
    rmSync(join(broken, 'tokenizer', 'tokenizer.json'));
    rmSync(join(broken, 'scheduler'), { recursive: true });
    expect(() => checkSanaModelDir(broken)).toThrow(
      /missing scheduler\/scheduler_config\.json; missing tokenizer\/tokenizer\.json; missing vae\/diffusion_pytorch_model\.safetensors/,
    );
    const index = join(broken, 'model_index.json');
    writeFileSync(index, JSON.stringify({ _class_name: 'StableDiffusionPipeline', vae: ['diffusers', 'AutoencoderKL'] }));
    expect(() => checkSanaModelDir(broken)).toThrow(/names pipeline "StableDiffusionPipeline".*vae is "AutoencoderKL", expected AutoencoderDC/);
    expect(() => checkSanaModelDir(dir, { variant: 'fp16' })).toThrow(/missing transformer\/diffusion_pytorch_model\.fp16\.safetensors/);
  });

  it('rejects a checkpoint whose keys do not match its config before building the model', () => {
    const bad = join(tmp(), 'badkeys');
    cpSync(dir, bad, { recursive: true });
    writeSafetensors(join(bad, 'transformer', 'diffusion_pytorch_model.safetensors'), new Map([['proj_out.weight', randn([8, 64], 1)]]));
    expect(() => loadSanaComponents(bad)).toThrow(/SanaTransformer2DModel weights .* do not match the config: \d+ missing/);
  });
});

describe('ComponentWeights: single files, shard indexes, variants', () => {
  it('reads sharded weights through the index and rejects a missing shard or duplicate key', () => {
    const d = tmp();
    writeSafetensors(join(d, 'model-00001-of-00002.safetensors'), new Map([['a', Tensor.f32([2], [1, 2])]]));
    writeSafetensors(join(d, 'model-00002-of-00002.safetensors'), new Map([['b', Tensor.f32([1], [3])]]));
    const index = { metadata: {}, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } };
    writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify(index));
    const w = ComponentWeights.open(d, 'model');
    try {
      expect(w.entries.map((e) => e.name).sort()).toEqual(['a', 'b']);
      expect(Array.from(w.read().get('b')!.data as Float32Array)).toEqual([3]);
    } finally {
      w.close();
    }
    writeSafetensors(join(d, 'model.bf16.safetensors'), new Map([['a', Tensor.f32([1], [5])]]));
    const v = ComponentWeights.open(d, 'model', 'bf16');
    expect(v.entries.map((e) => e.name)).toEqual(['a']);
    v.close();
    expect(() => ComponentWeights.open(d, 'model', 'fp16')).toThrow(/has no model\.fp16\.safetensors/);

    const dup = tmp();
    writeSafetensors(join(dup, 's1.safetensors'), new Map([['a', Tensor.f32([1], [1])]]));
    writeSafetensors(join(dup, 's2.safetensors'), new Map([['a', Tensor.f32([1], [1])]]));
    writeFileSync(join(dup, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: 's1.safetensors', b: 's2.safetensors' } }));
    expect(() => ComponentWeights.open(dup, 'model')).toThrow(/tensor a appears in both/);
    writeFileSync(join(dup, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: 's3.safetensors' } }));
    expect(() => ComponentWeights.open(dup, 'model')).toThrow(/shard\(s\) that do not exist/);
  });
});

describe('sampler selection', () => {
  it('uses the config’s scheduler, or builds dpm / euler with its shift', () => {
    const own = makeScheduler(SANA_SCHEDULER_CONFIG);
    expect(own).toBeInstanceOf(FlowDPMSolverMultistepScheduler);
    const euler = makeScheduler(SANA_SCHEDULER_CONFIG, 'euler');
    expect(euler).toBeInstanceOf(FlowMatchEulerDiscreteScheduler);
    expect((euler as FlowMatchEulerDiscreteScheduler).config.shift).toBe(3);
    const back = makeScheduler({ _class_name: 'FlowMatchEulerDiscreteScheduler', shift: 4, num_train_timesteps: 1000 }, 'dpm');
    expect(back).toBeInstanceOf(FlowDPMSolverMultistepScheduler);
    expect((back as FlowDPMSolverMultistepScheduler).config.flowShift).toBe(4);
    // Same grid as a DPM scheduler built directly with that shift.
    back.setTimesteps(5);
    const direct = new FlowDPMSolverMultistepScheduler({ use_flow_sigmas: true, prediction_type: 'flow_prediction', flow_shift: 4 });
    direct.setTimesteps(5);
    expect(back.timesteps).toEqual(direct.timesteps);
    expect(() => makeScheduler(SANA_SCHEDULER_CONFIG, 'heun' as 'dpm')).toThrow(/unknown sampler "heun"/);
    expect(() => makeScheduler({ _class_name: 'DDIMScheduler' })).toThrow(/DDIMScheduler/);
  });
});
