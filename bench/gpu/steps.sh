# Step runner shared by the GPU scripts (check.sh, models.sh): sourced, not run, with ROOT set (the
# repository root, the working directory). start_run sets OUT, WORK (the log folder), START, DEADLINE
# (epoch seconds), NODE and LAB; each step's output goes to $WORK/NAME.log, and its state, seconds and a
# note feed the summary table.

# start_run NAME TOTAL_S OUT_DEFAULT: $OUT (kept when set, created), a fresh $WORK, the deadline TOTAL_S
# from now, the node binary (SANA_GPU_NODE, else the unpacked build-gpu/node-bin/node) and the CLI.
start_run() {
  OUT="${OUT:-$3}"
  mkdir -p "$OUT"
  WORK="$(mktemp -d "/tmp/sana-gpu-$1.XXXXXX")"
  START=$(date +%s)
  DEADLINE=$((START + $2))
  NODE="${SANA_GPU_NODE:-$ROOT/build-gpu/node-bin/node}"
  LAB=("$NODE" dist/cli/main.js)
  export PYTHONUNBUFFERED=1
}

NAMES=() STATES=() SECS=() NOTES=()
# note TEXT: the note of the last step (kept when that step was skipped)
note() {
  local i=$((${#NAMES[@]} - 1))
  [ "${STATES[$i]}" = skipped ] || NOTES[$i]="$1"
}

# run_step NAME LIMIT_S CMD... : runs CMD with its output in $WORK/NAME.log, within LIMIT_S and the deadline.
run_step() {
  local name="$1" limit="$2"
  shift 2
  local now left t0 rc state
  now=$(date +%s)
  left=$((DEADLINE - now - 5))
  [ "$limit" -gt "$left" ] && limit=$left
  NAMES+=("$name")
  if [ "$limit" -lt 10 ]; then
    STATES+=("skipped") SECS+=(0) NOTES+=("no time left")
    echo "[check] $name: skipped (no time left)"
    return 99
  fi
  echo "[check] $name (≤ ${limit}s): $*"
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" >"$WORK/$name.log" 2>&1
  rc=$?
  case $rc in
    0) state="ok" ;;
    124 | 137) state="TIMEOUT" ;;
    *) state="FAIL($rc)" ;;
  esac
  STATES+=("$state") SECS+=($(($(date +%s) - t0))) NOTES+=("")
  tail -n 4 "$WORK/$name.log" | sed "s/^/    [$name] /"
  return $rc
}

# checks line of a cuda-selftest log: "N checks, F failed (…)"
checks_note() { grep -Eo '[0-9]+ checks, [0-9]+ failed' "$WORK/$1.log" | tail -1; }

# sanitizer_note STEP TOOL ["OP OP …"]: how many of a per-op compute-sanitizer step's runs (logs
# $WORK/STEP.OP.log) ended with TOOL's clean summary, and why the others are not clean. Each tool
# prints its own summary line (racecheck has no "ERROR SUMMARY"); a run without one was killed (its
# time limit) or crashed, so it is not clean. With the op list, ops that never ran count as not clean.
sanitizer_note() {
  local step="$1" tool="$2" ops="${3:-}" clean=0 all=0 bad="" timed="" nosum="" notrun="" op f
  local any clean_re
  case "$tool" in
    memcheck) any='ERROR SUMMARY: [0-9]+ error' clean_re='ERROR SUMMARY: 0 errors' ;;
    racecheck) any='RACECHECK SUMMARY: [0-9]+ hazard' clean_re='RACECHECK SUMMARY: 0 hazards displayed \(0 errors' ;;
    *) echo "sanitizer_note: unknown tool $tool"; return 1 ;;
  esac
  if [ -z "$ops" ]; then
    for f in "$WORK/$step".*.log; do [ -f "$f" ] && ops="$ops $(basename "$f" .log | cut -d. -f2-)"; done
  fi
  for op in $ops; do
    all=$((all + 1))
    f="$WORK/$step.$op.log"
    if [ ! -f "$f" ]; then notrun="$notrun $op"
    elif grep -Eq "$clean_re" "$f"; then clean=$((clean + 1))
    elif grep -Eq "$any" "$f"; then bad="$bad $op"
    elif grep -Eq "^\[$op\] exit (124|137)" "$WORK/$step.log" 2>/dev/null; then timed="$timed $op"
    else nosum="$nosum $op"
    fi
  done
  echo "$clean of $all ops clean${bad:+; not clean:$bad}${timed:+; timed out:$timed}${nosum:+; no summary:$nosum}${notrun:+; not run:$notrun}"
}

# node_ready: the unpacked node, the built JS and the addon are here (else the Node steps are skipped).
node_ready() { [ -x "$NODE" ] && [ -f dist/cli/main.js ] && [ -f build/Release/sana_lab.node ]; }
node_missing() {
  NAMES+=("$1") STATES+=(skipped) SECS+=(0)
  NOTES+=("needs build-gpu/node-bin/node (node.xz), dist/cli/main.js and build/Release/sana_lab.node (carry them)")
}

# unpack_node: build-gpu/node.xz → $NODE (xz, or python3's lzma where xz is missing).
unpack_node() {
  if [ ! -x "$NODE" ] && [ -f build-gpu/node.xz ]; then
    run_step node 40 bash -c 'mkdir -p build-gpu/node-bin && { if command -v xz >/dev/null; then xz -dc build-gpu/node.xz; else python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(\"build-gpu/node.xz\"), sys.stdout.buffer)"; fi; } > build-gpu/node-bin/node.tmp && chmod +x build-gpu/node-bin/node.tmp && mv build-gpu/node-bin/node.tmp build-gpu/node-bin/node && build-gpu/node-bin/node --version'
    note "$(tail -1 "$WORK/node.log")"
  elif [ -x "$NODE" ]; then
    NAMES+=(node) STATES+=(ok) SECS+=(0) NOTES+=("already unpacked: $("$NODE" --version 2>&1)")
  else
    NAMES+=(node) STATES+=(missing) SECS+=(0) NOTES+=("no build-gpu/node.xz: run bench/gpu/prepare.sh here first")
  fi
  # The npm packages dist/ imports (no node_modules and no network there): ESM resolves them from ./node_modules.
  if [ ! -d node_modules ] && [ -f build-gpu/node_modules.tar.xz ]; then
    run_step modules 30 python3 -c 'import tarfile, os; t = tarfile.open("build-gpu/node_modules.tar.xz"); t.extractall("node_modules"); print(len(os.listdir("node_modules")), "packages in node_modules")'
    note "$(tail -1 "$WORK/modules.log")"
  elif [ ! -d node_modules ]; then
    NAMES+=(modules) STATES+=(missing) SECS+=(0) NOTES+=("no node_modules and no build-gpu/node_modules.tar.xz: the CLI cannot load (run bench/gpu/prepare.sh here, carry it)")
  fi
}

# summary_table: one line per step (name, state, seconds, note).
summary_table() {
  printf '%-14s %-10s %5s  %s\n' step status s note
  for i in "${!NAMES[@]}"; do printf '%-14s %-10s %5s  %s\n' "${NAMES[$i]}" "${STATES[$i]}" "${SECS[$i]}" "${NOTES[$i]}"; done
}

# each_op "OP OP …" LIMIT_S CMD… : CMD once per op, the word {op} in it replaced, each run in its own
# process within LIMIT_S (a kernel fault ends a process's CUDA context: it must not take the other ops'
# results with it), its output in $WORK/$EACH_STEP.OP.log. Prints one line per op; exits 1 when any run
# failed. Run it through run_each_op.
each_op() {
  local ops="$1" limit="$2" op rc failed=0
  shift 2
  for op in $ops; do
    local cmd=()
    for a in "$@"; do cmd+=("${a//\{op\}/$op}"); done
    local log="$WORK/${EACH_STEP:-each}.$op.log"
    timeout --kill-after=5 "$limit" "${cmd[@]}" >"$log" 2>&1
    rc=$?
    echo "[$op] exit $rc: $(grep -Eo '[0-9]+ (checks|of [0-9]+ checks)[^(]*|ERROR SUMMARY: [0-9]+ errors?|RACECHECK SUMMARY: [0-9]+ hazards?' "$log" | tail -1)"
    [ "$rc" -eq 0 ] || failed=1
  done
  return $failed
}


# run_each_op NAME LIMIT_S "OP OP …" EACH_LIMIT_S CMD… : each_op as one step (one log, one state).
run_each_op() {
  local name="$1" limit="$2"
  shift 2
  run_step "$name" "$limit" env ROOT="$ROOT" WORK="$WORK" EACH_STEP="$name" bash -c 'source "$ROOT/bench/gpu/steps.sh"; each_op "$@"' each_op "$@"
}
