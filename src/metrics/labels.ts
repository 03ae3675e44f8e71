/**
 * Label values, bounded. Prometheus keeps one series per distinct label set for the life of the
 * process, so a label may only take values from a small, known set: names GitHub or the policy
 * define, never grant paths, logins or error text.
 */

/** A GitHub event or action name (`pull_request`, `opened`); anything else is `other`, nothing is `none`. */
export function eventLabel(value: string | undefined): string {
  if (value === undefined || value === "") return "none";
  return /^[a-z][a-z0-9_]{0,63}$/.test(value) ? value : "other";
}

/** A name as the policy schema allows it (resource keys, provider ids); anything else is `other`. */
export function nameLabel(value: string | undefined): string {
  return value !== undefined && /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(value) ? value : "other";
}

/** An HTTP status as its class (`2xx` … `5xx`), or `error` when there was no response at all. */
export function statusClass(status: number | undefined): string {
  return status !== undefined && status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : "error";
}
