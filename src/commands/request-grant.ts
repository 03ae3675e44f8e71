import { createHash } from "node:crypto";
import type { RequestInput } from "./request-parse.js";

/**
 * The grant file, path and branch Timebox writes for a request. Whether the file is a valid grant
 * is decided by the one rule, `checkGrantFile`, before anything is written.
 */

/** A short id for one request, stable for its comment or issue (a redelivered webhook gives the same branch). */
export function requestId(seed: string): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, 8);
}

/** One identifier as a ref or file-name segment: letters, digits and `-` only (anything else becomes `-`). */
const segment = (s: string): string => s.replace(/[^A-Za-z0-9-]/g, "-").replace(/^-+/, "") || "x";

/**
 * The branches of one person's requests for one role: `timebox/request/<login>/<resource>/<role>/`.
 * Each identifier is its own path segment, so `a-b`/`c` and `a`/`b-c` never share a prefix.
 */
export function requestBranchPrefix(login: string, resource: string, role: string): string {
  return `timebox/request/${segment(login.toLowerCase())}/${segment(resource)}/${segment(role)}/`;
}

/** The branch of one request: its prefix and the request's id. */
export const requestBranch = (login: string, input: Pick<RequestInput, "resource" | "role">, id: string): string =>
  `${requestBranchPrefix(login, input.resource, input.role)}${id}`;

/** The grant file of one request: `<grants_path><login>-<resource>-<role>-<id>.yaml`, inside the grant path's safe set. */
export function requestGrantPath(grantsPath: string, login: string, input: Pick<RequestInput, "resource" | "role">, id: string): string {
  const dir = grantsPath === "" || grantsPath.endsWith("/") ? grantsPath : `${grantsPath}/`;
  return `${dir}${segment(login.toLowerCase())}-${segment(input.resource)}-${segment(input.role)}-${id}.yaml`;
}

/**
 * The grant file's text. Every value is a double-quoted scalar (JSON strings are valid YAML), so
 * nothing typed can add a key, a comment or a second document.
 */
export function requestGrantText(requester: string, input: RequestInput, issue: number): string {
  const fields: Array<[string, string]> = [
    ["requester", requester],
    ["resource", input.resource],
    ["role", input.role],
    ["duration", input.duration],
    ["reason", input.reason],
    ...(input.ticket !== undefined ? ([["ticket", input.ticket]] as Array<[string, string]>) : []),
  ];
  return `# Written by Timebox for the request in issue #${issue}.\n${fields.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join("\n")}\n`;
}
