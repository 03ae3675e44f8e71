/**
 * Text from the receiver (an error, a grant's summary, a target check's message) goes on a PR, in
 * an issue and in the apply record (design rule 9, and rule 11: nothing Timebox did not write may
 * look like one of its records). So it is scrubbed of the secret and the URL, reduced to one line
 * of plain text (no markup, no HTML comments, no mentions, no code spans) and truncated.
 */

/** At most this many characters of receiver text in a message. */
const MAX_TEXT = 200;

// eslint-disable-next-line no-control-regex -- control characters are what this pattern is for
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g;
/** Markdown and HTML that could form a link, a mention, a comment marker or a code span. */
const MARKUP = /[<>`[\]@\\|!]/g;

export class Scrubber {
  private readonly secrets: string[];

  /** `secrets`: the signing secret and the URL; the URL's parts that could hold a token are added. */
  constructor(secrets: ReadonlyArray<string | undefined>) {
    const out: string[] = [];
    for (const s of secrets) {
      if (!s) continue;
      out.push(s);
      try {
        const u = new URL(s);
        out.push(u.href, `${u.origin}${u.pathname}`, u.pathname + u.search, u.search);
        for (const v of u.searchParams.values()) out.push(v);
        if (u.password) out.push(u.password);
      } catch {
        // not a URL: the value itself is enough
      }
    }
    // Longest first, so a secret inside the URL does not leave half the URL behind; short parts
    // (a "/" path, a 2-letter value) would mangle the text without protecting anything.
    this.secrets = [...new Set(out.filter((s) => s.length >= 6))].sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("***");
    return out;
  }

  /** Receiver text as it may be shown: scrubbed, one line of plain text, at most MAX_TEXT characters. */
  clean(text: string): string {
    const plain = this.scrub(text).replace(INVISIBLE, " ").replace(MARKUP, " ").replace(/\s+/g, " ").trim();
    // Scrubbed again after the rewrite: removing characters could have joined a secret's pieces.
    const once = this.scrub(plain);
    return once.length > MAX_TEXT ? `${once.slice(0, MAX_TEXT)}…` : once;
  }
}
