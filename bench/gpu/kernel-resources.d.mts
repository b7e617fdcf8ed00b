// Types of bench/gpu/kernel-resources.mjs (a plain Node script, like bundle-check.mjs).
export interface KernelResources {
  kernel: string;
  arch: string;
  registers: number;
  spillStores: number;
  spillLoads: number;
  stackBytes: number;
  smemBytes: number;
  warps: number;
  file?: string;
}
export declare const SM: { registers: number; maxWarps: number; allocUnit: number };
export declare function registerLimitedWarps(registers: number, sm?: typeof SM): number;
export declare function parsePtxasInfo(text: string): KernelResources[];
export declare function shortName(demangled: string): string;
export declare function compileForResources(file: string, options?: { arch?: string; nvcc?: string }): Promise<KernelResources[]>;
