// bindings/backends.ts: the notice timing commands print when the cuda backend is the host emulator.
import { describe, expect, it } from 'vitest';

import { cudaEmulationNotice } from '../../bindings/backends.js';

describe('cudaEmulationNotice', () => {
  it('names the emulator for an emulated cuda device, nothing for a real one or another backend', () => {
    expect(cudaEmulationNotice({ name: 'cuda', device: 'sana-emu (host emulation of an sm_90a GPU) (sm_90, 16.0 GiB, driver 13000)' })).toMatch(
      /host emulator .*its times are not GPU times/,
    );
    expect(cudaEmulationNotice({ name: 'cuda', device: 'NVIDIA H200 (sm_90, 139.8 GiB, driver 580.65)' })).toBeUndefined();
    expect(cudaEmulationNotice({ name: 'cuda' })).toBeUndefined();
    expect(cudaEmulationNotice({ name: 'cpu', device: 'sana-emu' })).toBeUndefined();
  });
});
