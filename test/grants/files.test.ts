import { describe, expect, test } from "@jest/globals";
import { classifyGrantsPathEntry, isGrantFilePath, printablePath } from "../../src/grants/files.js";

describe("classifyGrantsPathEntry: the one definition of a grant file", () => {
  test.each([
    ["grants/alice.yaml", "grant"],
    ["grants/alice.yml", "grant"],
    ["grants/dba/alice-1_x.yaml", "grant"],
    ["grants/README.md", "housekeeping"],
    ["grants/.gitkeep", "housekeeping"],
    ["grants/sub/README.md", "not-a-grant"],
    ["grants/readme.txt", "not-a-grant"],
    ["grants/.x.yaml", "not-a-grant"],
    ["grants/.hidden/a.yaml", "not-a-grant"],
    ["grants/x.json", "not-a-grant"],
    ["grants/x.yaml.bak", "not-a-grant"],
    ["grants/a b.yaml", "not-a-grant"],
    ["grants/a\nb.yaml", "not-a-grant"],
    ["grants/a\u0007.yaml", "not-a-grant"],
    ["grants/-rf.yaml", "not-a-grant"],
    ["grants/../x.yaml", "not-a-grant"],
    ["grants//x.yaml", "not-a-grant"],
    ["grants/é.yaml", "not-a-grant"],
    [`grants/${"a".repeat(300)}.yaml`, "not-a-grant"],
    ["grantsx/a.yaml", "outside"],
    [".github/timebox.yml", "outside"],
    ["grants", "outside"],
  ])("%j is %s", (path, kind) => {
    const verdict = classifyGrantsPathEntry(path, "grants/");
    expect(verdict.kind).toBe(kind);
    if (kind === "not-a-grant") expect(verdict.reason).toBeTruthy();
  });

  test("grants_path without its slash, or with ./, is normalised", () => {
    expect(isGrantFilePath("access/a.yaml", "access")).toBe(true);
    expect(isGrantFilePath("access/a.yaml", "./access/")).toBe(true);
    expect(isGrantFilePath("accessx/a.yaml", "access")).toBe(false);
  });

  test("printablePath escapes control characters", () => {
    expect(printablePath("grants/a\nb.yaml")).toBe("grants/a\\u000ab.yaml");
  });
});

describe("checkGrantFile applies the same path rule", () => {
  test("a dot-file or an unsafe name under grants_path fails with grant.path", async () => {
    const { checkGrantFile } = await import("../../src/grants/check.js");
    const { fixturePolicy, GRANT_TEXT } = await import("./helpers.js");
    for (const path of ["grants/.x.yaml", "grants/-x.yaml", "grants/a b.yaml"]) {
      const v = checkGrantFile(path, GRANT_TEXT, { policy: fixturePolicy() });
      expect(v.valid).toBe(false);
      expect(v.diagnostics).toContainEqual(expect.objectContaining({ rule: "grant.path", line: 1, column: 1 }));
    }
  });
});
