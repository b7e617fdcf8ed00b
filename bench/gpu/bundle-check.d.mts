// Types of bench/gpu/bundle-check.mjs (a plain Node script, so that it runs before `npm run build:ts`).
export declare const CARRY_LIMIT_BYTES: number;
export interface BundleArtifact {
  path: string;
  sources: string[];
  make: string;
  builtAt?: string;
  sourceExt?: string[];
  sm90a?: boolean;
  addon?: boolean;
}
export declare const ARTIFACTS: BundleArtifact[];
export interface BundleTools {
  listElf?: (file: string) => string[] | null;
  addon?: (file: string) => { compiled: boolean; runtimeVersion: string } | { error: string };
  undefinedSymbols?: (file: string) => { symbols: string[] } | { missing: string };
  nodeMajor?: string;
}
export interface BundleCheck {
  ok: boolean;
  problems: string[];
  notes: string[];
  totalBytes: number;
  carry: string[];
}
export declare function listElfArchs(file: string, cuobjdump?: string): string[] | null;
export declare function inspectAddon(file: string): { compiled: boolean; runtimeVersion: string } | { error: string };
export declare function checkBundle(root: string, tools?: BundleTools): BundleCheck;
