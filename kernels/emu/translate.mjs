// Rewrites a .cu file into C++ the host emulator compiles (with kernels/emu/cuda_emu.h force-included):
//   kernel<T><<<grid, block, smem, stream>>>(args);  →  ::sana_emu::launch(::sana_emu::Config(grid, block, smem, stream), "kernel<T>", kernel<T>, args);
//   extern __shared__ __align__(16) uint8_t smem[];  →  uint8_t* const smem = static_cast<uint8_t*>(::sana_emu::dynamic_smem(16));
//   cudaFuncSetAttribute(kernel<T>, attr, v)  →  ::sana_emu::func_set_attribute("kernel<T>", attr, v)
//   cudaLaunchKernelEx(cfg, kernel<T>, args)   →  ::sana_emu::launch_ex(cfg, "kernel<T>", kernel<T>, args)  (clusters)
//   __shared__ float s[8][33], t[8];  →  references into the block's emulated shared memory (so that
//                                        static shared arrays are poisoned per block like dynamic ones)
// A kernel is identified by its spelling at the launch (a launch of a template whose arguments are
// deduced has no function pointer to go by), so an attribute applies to the launches spelled alike.
// Nothing else changes, and line numbers are kept (a `#line` names the original file), so compiler
// messages and emulator faults point into the real source.
//
//   node kernels/emu/translate.mjs IN.cu OUT.cpp
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Index of the parenthesis/bracket closing the one opened at `open`, skipping strings and comments. */
function matching(src, open) {
  const pairs = { '(': ')', '<': '>' };
  const want = pairs[src[open]];
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'") {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === '\\') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      i = src.indexOf('\n', i);
      if (i < 0) break;
      continue;
    }
    if (c === src[open]) depth++;
    else if (c === want && --depth === 0) return i;
  }
  throw new Error(`translate: unbalanced ${src[open]} at offset ${open}`);
}

/** Start of the kernel expression that ends just before `end` (an identifier, maybe qualified, maybe with template arguments). */
function kernelStart(src, end) {
  let i = end;
  while (i > 0 && /\s/.test(src[i - 1])) i--;
  if (src[i - 1] === '>') {
    let depth = 0;
    for (i--; i >= 0; i--) {
      if (src[i] === '>') depth++;
      else if (src[i] === '<' && --depth === 0) break;
    }
    if (i < 0) throw new Error('translate: unbalanced template arguments before <<<');
  }
  while (i > 0 && /[\w:]/.test(src[i - 1])) i--;
  return i;
}

/** cudaFuncSetAttribute(KERNEL, …) → ::sana_emu::func_set_attribute("KERNEL", …); KERNEL may have template arguments. */
function rewriteFuncAttributes(src) {
  const call = 'cudaFuncSetAttribute(';
  let out = '';
  let pos = 0;
  for (;;) {
    const at = src.indexOf(call, pos);
    if (at < 0) break;
    let i = at + call.length;
    let depth = 0;
    for (; i < src.length; i++) {
      const c = src[i];
      if (c === '(' || c === '<') depth++;
      else if (c === ')' || c === '>') depth--;
      else if (c === ',' && depth === 0) break;
    }
    const kernel = src.slice(at + call.length, i).trim().replace(/\s+/g, ' ');
    out += src.slice(pos, at) + `::sana_emu::func_set_attribute(${JSON.stringify(kernel)}`;
    pos = i;
  }
  return out + src.slice(pos);
}

/** cudaLaunchKernelEx(CONFIG, KERNEL, ARGS…) → ::sana_emu::launch_ex(CONFIG, "KERNEL", [&](auto... a_) { KERNEL(a_...); }, ARGS…). */
function rewriteLaunchEx(src) {
  const call = 'cudaLaunchKernelEx(';
  const code = codeMask(src);
  let out = '';
  let pos = 0;
  for (;;) {
    const at = src.indexOf(call, pos);
    if (at < 0) break;
    if (!code[at] || (at > 0 && /[\w:]/.test(src[at - 1]))) {  // in a comment or string; another name ending so, or qualified
      out += src.slice(pos, at + call.length);
      pos = at + call.length;
      continue;
    }
    const open = at + call.length - 1;
    const close = matching(src, open);
    const parts = splitTop(src.slice(open + 1, close));
    if (parts.length < 2) throw new Error(`translate: cudaLaunchKernelEx without a kernel at offset ${at}`);
    const [config, kernel, ...args] = parts;
    const name = JSON.stringify(kernel.replace(/\s+/g, ' '));
    out += src.slice(pos, at) + `::sana_emu::launch_ex(${config}, ${name}, [&](auto... a_) { ${kernel}(a_...); }${args.length ? ', ' : ''}${args.join(', ')})`;
    pos = close + 1;
  }
  return out + src.slice(pos);
}

// Rewrites `__shared__ [__align__(A)] TYPE a[D]..., b[D];` (static shared) into
// references into the emulated shared memory.
function splitTop(s) {
  const out = [];
  let depth = 0, cur = '';
  for (const c of s) {
    if (c === '[' || c === '(' || c === '<') depth++;
    else if (c === ']' || c === ')' || c === '>') depth--;
    if (c === ',' && depth === 0) { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out.map((x) => x.trim());
}
function rewriteStaticShared(src) {
  return src.replace(/(^|[;{}\n])(\s*)__shared__\s+(?:__align__\s*\(\s*(\d+)\s*\)\s+)?([A-Za-z_][\w:]*(?:<[^;>]*>)?)\s+([^;]+);/g, (m, pre, ws, align, type, decls) => {
    const parts = splitTop(decls).map((d) => {
      const dm = /^(\w+)((?:\s*\[[^\]]+\])*)$/.exec(d);
      if (!dm) throw new Error(`translate: cannot parse the __shared__ declarator "${d}"`);
      const [, name, dims] = dm;
      const a = align ?? '0';
      if (!dims) return `${type}& ${name} = *static_cast<${type}*>(::sana_emu::static_smem(sizeof(${type}), ${a}, alignof(${type}), __FILE__, __LINE__, "${name}"));`;
      return `${type} (&${name})${dims} = *reinterpret_cast<${type} (*)${dims}>(::sana_emu::static_smem(sizeof(${type}${dims}), ${a}, alignof(${type}), __FILE__, __LINE__, "${name}"));`;
    });
    return pre + ws + parts.join(' ');
  });
}

/** For each offset of src: true when it is code (not inside a comment, string or character literal). */
function codeMask(src) {
  const code = new Uint8Array(src.length).fill(1);
  for (let i = 0; i < src.length; i++) {
    let end = -1;
    if (src.startsWith('//', i)) end = src.indexOf('\n', i);
    else if (src.startsWith('/*', i)) end = src.indexOf('*/', i) + 1;
    else if (src[i] === '"' || src[i] === "'") {
      for (end = i + 1; end < src.length && src[end] !== src[i]; end++) if (src[end] === '\\') end++;
    }
    if (end === -1) continue;
    if (end <= 0) end = src.length - 1;
    code.fill(0, i, end + 1);
    i = end;
  }
  return code;
}

export function translate(src) {
  const code = codeMask(src);
  let out = '';
  let pos = 0;
  for (;;) {
    let lt = src.indexOf('<<<', pos);
    while (lt >= 0 && !code[lt]) lt = src.indexOf('<<<', lt + 3);
    if (lt < 0) break;
    const gt = src.indexOf('>>>', lt);
    if (gt < 0) throw new Error(`translate: <<< without >>> at offset ${lt}`);
    const start = kernelStart(src, lt);
    const kernel = src.slice(start, lt).trim();
    const config = src.slice(lt + 3, gt);
    let open = gt + 3;
    while (/\s/.test(src[open])) open++;
    if (src[open] !== '(') throw new Error(`translate: no argument list after >>> at offset ${gt}`);
    const close = matching(src, open);
    const args = src.slice(open + 1, close);
    const name = JSON.stringify(kernel.replace(/\s+/g, ' '));
    out += src.slice(pos, start);
    // The kernel is called from a generic lambda so that template arguments are deduced as in CUDA.
    out += `::sana_emu::launch(::sana_emu::Config(${config}), ${name}, [&](auto... a_) { ${kernel}(a_...); }${args.trim() ? ', ' : ''}${args})`;
    pos = close + 1;
  }
  out += src.slice(pos);
  out = rewriteFuncAttributes(out);
  out = rewriteLaunchEx(out);
  out = out.replace(
    /extern\s+__shared__\s+(?:__align__\s*\(\s*(\d+)\s*\)\s+)?([A-Za-z_][\w:]*)\s+(?:__align__\s*\(\s*(\d+)\s*\)\s+)?(\w+)\s*\[\s*\]\s*;/g,
    (_m, a1, type, a2, name) => `${type}* const ${name} = static_cast<${type}*>(::sana_emu::dynamic_smem(${a1 ?? a2 ?? 16}));`,
  );
  return rewriteStaticShared(out);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: node kernels/emu/translate.mjs IN.cu OUT.cpp');
    process.exit(3);
  }
  const src = readFileSync(input, 'utf8');
  writeFileSync(output, `#line 1 ${JSON.stringify(resolve(input))}\n${translate(src)}`);
}
