/** Other still-active grants that ask a provider for the same access as the one in hand. */
import type { ActiveGrant } from "./types.js";

/** Another still-active grant, with what it asks of the provider. */
export interface OtherGrant<W> {
  grant: ActiveGrant;
  wanted: W;
}

/**
 * The still-active grants other than `g` whose wanted access is `same` as `wanted`. A grant whose
 * access cannot be read (bad settings) gives nothing: it could not have been granted either.
 */
export function otherGrantsWanting<W>(
  g: ActiveGrant,
  wanted: W,
  stillActive: readonly ActiveGrant[],
  wantedAccess: (grant: ActiveGrant) => W,
  same: (a: W, b: W) => boolean,
): Array<OtherGrant<W>> {
  const out: Array<OtherGrant<W>> = [];
  for (const other of stillActive) {
    if (other === g || (other.id === g.id && other.repo === g.repo)) continue;
    let w: W;
    try {
      w = wantedAccess(other);
    } catch {
      continue;
    }
    if (same(wanted, w)) out.push({ grant: other, wanted: w });
  }
  return out;
}
