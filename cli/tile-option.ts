/**
 * `--tile SIZE [--tile-stride S]` of the commands that decode with the DC-AE (generate, run dcae-decode,
 * profile --decode): checked before any work, and each message names only what the user passed (the
 * default stride is 7/8 of the tile, always valid for a valid tile).
 */
import { intOption } from './args.js';
import { UsageError } from './command.js';
import { tiling, type TilingOptions } from '../reference/dcae/tiling.js';

/** The tiling of `--tile` (a size >= 1; callers handle their own special values such as generate's 0) and `--tile-stride`. */
export function tileOption(cmd: string, values: ReadonlyMap<string, string>, multiple: number): TilingOptions {
  const size = intOption(cmd, 'tile', values.get('tile'), 0, 1);
  if (size % multiple !== 0) {
    throw new UsageError(`${cmd}: --tile ${size} does not fit: tile sizes are multiples of ${multiple} (the DC-AE compression), e.g. ${Math.max(multiple, Math.round(size / multiple) * multiple)}`);
  }
  if (!values.has('tile-stride')) return tiling(size, undefined, multiple);
  const stride = intOption(cmd, 'tile-stride', values.get('tile-stride'), 0, 1);
  if (stride % multiple !== 0 || stride > size) throw new UsageError(`${cmd}: --tile-stride ${stride} must be a multiple of ${multiple} and at most --tile ${size}`);
  return tiling(size, stride, multiple);
}
