#!/usr/bin/env python3
"""Merges the JSON results of per-op runs (check.sh runs each op in its own process) into one file:
the array fields (checks, records, skipped, self_checks) are concatenated in the order of the inputs,
every other field comes from the first readable input. An input that is missing or not JSON (its
process crashed or timed out) is listed under "merge_errors", never silently dropped. The last line
printed counts the merged checks (check.sh's note on the step).

    python3 bench/gpu/merge_json.py OUT.json IN.json [IN.json ...]
"""
import json
import sys

ARRAYS = ("checks", "records", "skipped", "self_checks")


def merge(paths):
    merged, errors = None, []
    for path in paths:
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            errors.append({"file": path, "error": str(e)})
            continue
        if merged is None:
            merged = {k: v for k, v in doc.items()}
            for k in ARRAYS:
                if k in merged:
                    merged[k] = list(merged[k])
            continue
        for k in ARRAYS:
            if k in doc:
                merged.setdefault(k, []).extend(doc[k])
    merged = merged if merged is not None else {}
    merged["merged_from"] = list(paths)
    if errors:
        merged["merge_errors"] = errors
    return merged


def summary(merged):
    """N checks, F failed[, S skipped], U ops unreadable: self-test "checks" or parity "records"."""
    rows = merged.get("checks", merged.get("records", []))
    parts = ["%d checks" % len(rows), "%d failed" % sum(not r.get("pass") for r in rows)]
    if "skipped" in merged:
        parts.append("%d skipped" % len(merged["skipped"]))
    parts.append("%d ops unreadable" % len(merged.get("merge_errors", [])))
    return ", ".join(parts)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: merge_json.py OUT.json IN.json [IN.json ...]")
    out = merge(sys.argv[2:])
    with open(sys.argv[1], "w") as f:
        json.dump(out, f, indent=1)
    print(f"merged {len(sys.argv) - 2} files into {sys.argv[1]}")
    print(summary(out))
