/**
 * Scrubbing a provider's connection secrets from every message it may show (rule 9): the URL
 * itself and its password, raw and decoded, longest first so nothing is left half-hidden.
 */
export class UrlRedactor {
  private readonly secrets: string[];

  constructor(url: string | undefined) {
    this.secrets = secretsOf(url);
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("***");
    return out;
  }
}

/** The URL itself, and its password raw and decoded, to scrub from any message. */
function secretsOf(url: string | undefined): string[] {
  if (!url) return [];
  const out = [url];
  try {
    const u = new URL(url);
    if (u.password) out.push(u.password, safeDecode(u.password));
  } catch {
    // Not a URL (e.g. a libpq key/value string): scrub a password=… value if there is one.
    const m = /password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/i.exec(url);
    if (m?.[1]) out.push(m[1], m[1].replace(/^'|'$/g, ""));
  }
  return [...new Set(out.filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
}

/** A URL component decoded, or as written when it is not valid percent-encoding. */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
