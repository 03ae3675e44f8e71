/**
 * `at(text, "approvals: |0")`: the 1-based line and column of the `|` inside the first
 * occurrence of the needle (without the `|`) in `text` — a readable way to say where a
 * diagnostic must point. Without `|`, the needle's start.
 */
export function at(text: string, needle: string): { line: number; column: number } {
  const bar = needle.indexOf("|");
  const plain = needle.replace("|", "");
  const found = text.indexOf(plain);
  if (found < 0) throw new Error(`needle ${JSON.stringify(plain)} not in the document`);
  const offset = found + Math.max(bar, 0);
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}
