/**
 * Distinguished names (RFC 4514) and filter values (RFC 4515), written here rather than trusted to
 * string concatenation: a DN from the policy is parsed, checked and written back in one canonical,
 * fully escaped form before it is sent, and every value put into a search filter is escaped. A
 * name with `,`, `+`, `=`, `\`, `*`, `(`, `)` or a NUL in it can then only ever mean itself — never
 * a different entry, a wildcard, or a second filter term.
 */

/** One `type=value` pair of a relative DN; `value` is unescaped (what the directory stores). */
interface Ava {
  type: string;
  value: string;
}

/** An RDN holds one or more AVAs (`cn=a+uid=b`). */
export type Rdn = Ava[];

export type ParsedDn = { ok: true; rdns: Rdn[] } | { ok: false; error: string };

const TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)$/;
const MAX_DN_LENGTH = 1024;

/**
 * Parses a DN string. Accepts RFC 4514 (escaped specials `\,` and hex pairs `\2C`, `#`-hex
 * values) plus the spaces around `,` `+` `=` that Active Directory and people write. The empty
 * DN is refused: no group or person is named that way.
 */
export function parseDn(input: string): ParsedDn {
  if (typeof input !== "string" || input.trim() === "") return { ok: false, error: "is empty" };
  if (input.length > MAX_DN_LENGTH) return { ok: false, error: `is longer than ${MAX_DN_LENGTH} characters` };
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(input)) return { ok: false, error: "contains a control character (write it escaped, e.g. \\0A)" };
  const rdns: Rdn[] = [];
  let rdn: Rdn = [];
  let i = 0;
  const n = input.length;
  const skipSpaces = () => {
    while (i < n && input[i] === " ") i++;
  };
  for (;;) {
    skipSpaces();
    const typeStart = i;
    while (i < n && input[i] !== "=" && input[i] !== "," && input[i] !== "+") i++;
    const type = input.slice(typeStart, i).trim();
    if (i >= n || input[i] !== "=")
      return { ok: false, error: `has no \`=\` after \`${type || input.slice(typeStart, i)}\` (expected type=value, e.g. cn=ops)` };
    if (!TYPE.test(type)) return { ok: false, error: `has an invalid attribute type \`${type}\`` };
    i++; // '='
    skipSpaces();
    let value: string;
    if (input[i] === "#") {
      // A BER-encoded value in hex: kept as written (the directory compares it as given).
      const start = i;
      i++;
      while (i < n && /[0-9A-Fa-f]/.test(input[i]!)) i++;
      value = input.slice(start, i);
      if ((value.length - 1) % 2 !== 0 || value.length < 3) return { ok: false, error: `has an invalid hex value \`${value}\`` };
      skipSpaces();
    } else {
      const bytes: number[] = [];
      let trailingUnescapedSpaces = 0;
      while (i < n && input[i] !== "," && input[i] !== "+" && input[i] !== ";") {
        const c = input[i]!;
        if (c === "\\") {
          const next = input[i + 1];
          if (next !== undefined && /[0-9A-Fa-f]/.test(next) && i + 2 < n && /[0-9A-Fa-f]/.test(input[i + 2]!)) {
            bytes.push(parseInt(input.slice(i + 1, i + 3), 16));
            i += 3;
          } else if (next !== undefined && ' "#+,;<=>\\'.includes(next)) {
            bytes.push(next.charCodeAt(0));
            i += 2;
          } else {
            return { ok: false, error: `has a dangling or invalid escape \`\\${next ?? ""}\`` };
          }
          trailingUnescapedSpaces = 0;
          continue;
        }
        if (c === '"' || c === "<" || c === ">") {
          return { ok: false, error: `has an unescaped \`${c}\` in a value (write \\${c})` };
        }
        for (const b of Buffer.from(c, "utf8")) bytes.push(b);
        trailingUnescapedSpaces = c === " " ? trailingUnescapedSpaces + 1 : 0;
        i++;
      }
      const raw = Buffer.from(bytes.slice(0, bytes.length - trailingUnescapedSpaces));
      value = raw.toString("utf8");
      if (!Buffer.from(value, "utf8").equals(raw)) return { ok: false, error: "has an escaped value that is not valid UTF-8" };
      if (value === "") return { ok: false, error: `has an empty value for \`${type}\`` };
    }
    rdn.push({ type, value });
    if (i >= n) {
      rdns.push(rdn);
      break;
    }
    const sep = input[i];
    i++;
    if (sep === "+") continue;
    rdns.push(rdn);
    rdn = [];
    // A trailing comma leaves an empty RDN: refused by the type check above on the next round.
    if (i >= n) return { ok: false, error: "ends with a separator" };
  }
  return { ok: true, rdns };
}

/** Escapes one attribute value for a DN string (RFC 4514 §2.4). */
function escapeDnValue(value: string): string {
  let out = "";
  const chars = [...value];
  chars.forEach((c, idx) => {
    const code = c.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) out += `\\${code.toString(16).padStart(2, "0")}`;
    else if (',+"\\<>;='.includes(c)) out += `\\${c}`;
    else if (idx === 0 && (c === " " || c === "#")) out += `\\${c}`;
    else if (idx === chars.length - 1 && c === " ") out += "\\ ";
    else out += c;
  });
  return out;
}

/** The canonical string of a parsed DN: every value escaped, no stray spaces. */
export function formatDn(rdns: readonly Rdn[]): string {
  return rdns
    .map((rdn) => rdn.map((a) => `${a.type}=${a.value.startsWith("#") && /^#(?:[0-9A-Fa-f]{2})+$/.test(a.value) ? a.value : escapeDnValue(a.value)}`).join("+"))
    .join(",");
}

/**
 * A key for comparing DNs on this side (overlapping grants, "is this Timebox's own account"):
 * attribute types and values case-folded, inner spaces collapsed, AVAs of an RDN sorted. The
 * directory's own matching rules decide membership; this only decides whether two policy entries
 * name the same entry, and errs towards "the same" only where the usual naming attributes
 * (cn, uid, ou, dc, o) are case-insensitive anyway.
 */
export function dnKey(rdns: readonly Rdn[]): string {
  return rdns
    .map((rdn) =>
      rdn
        .map((a) => `${a.type.toLowerCase()}=${escapeDnValue(a.value.trim().replace(/\s+/g, " ").toLowerCase())}`)
        .sort()
        .join("+"),
    )
    .join(",");
}

/** Escapes a value for an RFC 4515 filter string: `*`, `(`, `)`, `\` and NUL become `\2a` etc. */
export function escapeFilterValue(value: string): string {
  // eslint-disable-next-line no-control-regex -- NUL is one of the characters RFC 4515 requires escaped
  return value.replace(/[*()\\\u0000]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
