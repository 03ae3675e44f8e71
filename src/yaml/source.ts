/** Reading positions in YAML text: what the parser's offsets mean for a person. */

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const HASH = 0x23;

const isBlank = (c: number) => c === SPACE || c === TAB;
const isBreak = (c: number) => c === LF || c === CR;

/** The offset of the first character at or after `from` that is not a space or tab. */
export function skipBlanks(text: string, from: number): number {
  let i = from;
  while (isBlank(text.charCodeAt(i))) i++;
  return i;
}

/**
 * The offset of the first character at or after `from` that is content: spaces, tabs, line breaks
 * and comments skipped (a `#` starts a comment at the start of a line or after a blank).
 */
export function skipSeparation(text: string, from: number): number {
  let i = from;
  for (;;) {
    const c = text.charCodeAt(i);
    if (isBlank(c) || isBreak(c)) i++;
    else if (c === HASH && (i === 0 || isBlank(text.charCodeAt(i - 1)) || isBreak(text.charCodeAt(i - 1)))) {
      while (i < text.length && !isBreak(text.charCodeAt(i))) i++;
    } else return i;
  }
}

/** The offset just after a node property (`!tag`, `&anchor`) or alias (`*name`) starting at `from`. */
export function skipToken(text: string, from: number): number {
  let i = from;
  for (;;) {
    const c = text.charCodeAt(i);
    if (Number.isNaN(c) || isBlank(c) || isBreak(c) || c === 0x2c /* , */ || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d) return i;
    i++;
  }
}

/** 1-based line and column (in UTF-16 code units, as editors count them) of an offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}
