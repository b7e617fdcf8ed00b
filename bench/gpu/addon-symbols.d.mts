// Types of bench/gpu/addon-symbols.mjs (a plain Node script, like bundle-check.mjs).
export declare const REBUILD_HINT: string;
export declare function projectSymbolsIn(nmText: string): string[];
export declare function undefinedProjectSymbols(file: string, nm?: string): { symbols: string[] } | { missing: string };
export declare function demangle(names: string[]): string[];
