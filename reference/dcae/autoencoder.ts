/**
 * `AutoencoderDC` — the DC-AE of SANA as diffusers defines it: `encode` (image in [−1, 1] → raw
 * latent), `decode` (raw latent → image, optionally tiled like diffusers' `enable_tiling`), and the
 * latent scaling the pipelines apply around the diffusion model:
 *
 *   z_model = encode(x) · scaling_factor          x̂ = decode(z_model / scaling_factor)
 *
 * (diffusers' `encode`/`decode` do not scale; the golden `latent` is unscaled.)
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import { spatialCompressionRatio, loadDcaeConfig, type DcaeConfig } from './config.js';
import { decoderForward } from './decoder.js';
import { nchw, scale } from './elementwise.js';
import { encoderForward, type DcaeForwardOptions } from './encoder.js';
import { ParamScope } from './params.js';
import { needsTiling, tileGrid, tiledDecode, type TileSpec, type TilingOptions } from './tiling.js';
import { dcaeParamShapes, decoderParamShapes, encoderParamShapes } from './param-shapes.js';
import { checkDcaeWeights, loadDcaeWeights, type LoadDcaeWeightsOptions } from './weights.js';

export interface DcaeDecodeOptions extends DcaeForwardOptions {
  /** Tile the decode like diffusers' `enable_tiling(...)` (only taken when the latent exceeds one tile). */
  tiling?: TilingOptions;
  /** Progress callback for tiled decodes. */
  onTile?: (spec: TileSpec, index: number, count: number) => void;
}

export interface AutoencoderDCOptions {
  /** Name of the weights' origin, for error messages. */
  source?: string;
  /** Hold only the encoder's or the decoder's parameters (then only that half is checked and usable). */
  part?: 'encoder' | 'decoder' | 'all';
}

export class AutoencoderDC {
  private readonly root: ParamScope;
  readonly part: 'encoder' | 'decoder' | 'all';

  /** `params`: a diffusers state_dict, checked against `config` (one error lists every bad key). */
  constructor(
    readonly config: DcaeConfig,
    params: ReadonlyMap<string, Tensor>,
    opts: AutoencoderDCOptions = {},
  ) {
    this.part = opts.part ?? 'all';
    const source = opts.source ?? '<state_dict>';
    const expected = this.part === 'encoder' ? encoderParamShapes(config) : this.part === 'decoder' ? decoderParamShapes(config) : dcaeParamShapes(config);
    checkDcaeWeights(expected, params, source);
    this.root = new ParamScope(params);
  }

  /** From a diffusers config.json and a safetensors checkpoint (`part` loads only one half's tensors). */
  static fromFiles(configPath: string, weightsPath: string, opts: LoadDcaeWeightsOptions = {}): AutoencoderDC {
    const config = loadDcaeConfig(configPath);
    return new AutoencoderDC(config, loadDcaeWeights(weightsPath, config, opts), { source: weightsPath, part: opts.part });
  }

  private scope(half: 'encoder' | 'decoder'): ParamScope {
    if (this.part !== 'all' && this.part !== half) throw new Error(`AutoencoderDC: this instance holds only the ${this.part} weights, not the ${half}`);
    return this.root.child(half);
  }

  /** Image side / latent side (32 for f32c32). */
  get spatialCompressionRatio(): number {
    return spatialCompressionRatio(this.config);
  }

  get scalingFactor(): number {
    return this.config.scalingFactor;
  }

  /** (B, in, H, W) image, H and W multiples of f → (B, latent, H/f, W/f) raw latent. */
  encode(sample: Tensor, opts: DcaeForwardOptions = {}): Tensor {
    const [, C, H, W] = nchw(sample, 'AutoencoderDC.encode');
    const f = this.spatialCompressionRatio;
    if (C !== this.config.inChannels || H % f !== 0 || W % f !== 0) {
      throw new RangeError(`AutoencoderDC.encode: want (B, ${this.config.inChannels}, H, W) with H and W multiples of ${f}, got ${shapeStr(sample.shape)}`);
    }
    return encoderForward(sample, this.scope('encoder'), this.config, opts);
  }

  /** (B, latent, h, w) raw latent → (B, in, h·f, w·f) image in about [−1, 1]. */
  decode(latent: Tensor, opts: DcaeDecodeOptions = {}): Tensor {
    const [, C, h, w] = nchw(latent, 'AutoencoderDC.decode');
    if (C !== this.config.latentChannels) {
      throw new RangeError(`AutoencoderDC.decode: want (B, ${this.config.latentChannels}, h, w), got ${shapeStr(latent.shape)}`);
    }
    const f = this.spatialCompressionRatio;
    const run = (z: Tensor): Tensor => decoderForward(z, this.scope('decoder'), this.config, opts);
    if (opts.tiling === undefined || !needsTiling(h, w, f, opts.tiling)) return run(latent);
    return this.tiledDecode(latent, opts.tiling, opts);
  }

  /** diffusers `tiled_decode` itself (tiles even when the latent fits in one tile). */
  tiledDecode(latent: Tensor, tilingOpts: TilingOptions, opts: DcaeDecodeOptions = {}): Tensor {
    const [, , h, w] = nchw(latent, 'AutoencoderDC.tiledDecode');
    const grid = tileGrid(h, w, this.spatialCompressionRatio, tilingOpts);
    let i = 0;
    const { record: _ignored, ...tileOpts } = opts; // per-tile intermediates would be ambiguous
    return tiledDecode(
      latent,
      (z) => decoderForward(z, this.scope('decoder'), this.config, tileOpts),
      grid,
      this.config.inChannels,
      (spec) => opts.onTile?.(spec, i++, grid.tiles.length),
    );
  }

  /** z · scaling_factor: the latent the diffusion model sees. */
  scaleLatent(z: Tensor): Tensor {
    return scale(z, this.config.scalingFactor);
  }

  /** z / scaling_factor: back to the decoder's latent (float32 division, as torch). */
  unscaleLatent(z: Tensor): Tensor {
    const zs = z.toFloat32();
    const out = new Float32Array(zs.length);
    const s = Math.fround(this.config.scalingFactor);
    for (let i = 0; i < zs.length; i++) out[i] = zs[i]! / s;
    return new Tensor(z.shape, 'f32', out);
  }
}
