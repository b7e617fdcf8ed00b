/**
 * The first `n` names joined by `sep`, then "… and K more": what an error message about a wrong
 * checkpoint lists, which would otherwise be one line of every key (≈ 10 KB for a DiT against a DC-AE file).
 */
export function listSome(names: readonly string[], sep = ', ', n = 8): string {
  return names.length <= n ? names.join(sep) : `${names.slice(0, n).join(sep)}${sep}… and ${names.length - n} more`;
}
