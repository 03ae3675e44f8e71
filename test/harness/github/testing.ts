/** A minimal fetch client for talking to the emulator directly in tests (no Octokit). */
import type { GitHubEmulator } from "./emulator.js";

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export function restClient(emu: GitHubEmulator, token: string) {
  return async function api<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const url = path.startsWith("http") ? path : `${emu.baseUrl}${path}`;
    const res = await fetch(url, {
      method,
      headers: {
        authorization: `token ${token}`,
        accept: "application/vnd.github+json",
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* raw */
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  };
}

/** Parse a Link header into { next, prev, last, first }. */
export function parseLink(h: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (h ?? "").split(",")) {
    const m = /<([^>]+)>;\s*rel="(\w+)"/.exec(part.trim());
    if (m) out[m[2]] = m[1];
  }
  return out;
}
