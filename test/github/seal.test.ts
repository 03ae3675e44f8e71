/**
 * Seals on the markers Timebox reads back (src/github/seal.ts): valid only for the repository
 * and PR they were written on, with the key they were written with, on the marker's exact text.
 */
import { describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordKeyFrom, recordKeyOf, sealedMarkers, sealMarkers } from "../../src/github/seal.js";

const KEY = recordKeyFrom("-----BEGIN RSA PRIVATE KEY-----\nsecret\n-----END RSA PRIVATE KEY-----");
const HERE = { repo: "acme/access", number: 7 };
const BODY =
  '<!-- timebox:breakglass {"path":"grants/a.yaml","expiresAt":"2026-03-02T09:30:00Z"} -->\n## Break-glass\n<!-- timebox:applied grants/a.yaml@abc -->';

describe("marker seals", () => {
  it("reads back what Timebox sealed, as it was written, and nothing else of the comment", () => {
    const sealed = sealMarkers(KEY, HERE, BODY);
    expect(sealed).toContain("<!-- timebox:applied grants/a.yaml@abc --><!-- seal ");
    expect(sealedMarkers(KEY, HERE, `${sealed}\n<!-- timebox:breakglass-closed grants/a.yaml -->`)).toEqual([
      '<!-- timebox:breakglass {"path":"grants/a.yaml","expiresAt":"2026-03-02T09:30:00Z"} -->',
      "<!-- timebox:applied grants/a.yaml@abc -->",
    ]);
    expect(sealedMarkers(KEY, { repo: "ACME/Access", number: 7 }, sealed)).toHaveLength(2);
  });

  it("ignores a changed marker, a copied one, one sealed with another key, and one not at a line's start", () => {
    const sealed = sealMarkers(KEY, HERE, BODY);
    expect(sealedMarkers(KEY, HERE, sealed.replace("09:30:00Z", "23:30:00Z"))).toEqual(["<!-- timebox:applied grants/a.yaml@abc -->"]);
    expect(sealedMarkers(KEY, { repo: "acme/access", number: 8 }, sealed)).toEqual([]);
    expect(sealedMarkers(KEY, { repo: "acme/other", number: 7 }, sealed)).toEqual([]);
    expect(sealedMarkers(recordKeyFrom("another key entirely, rotated"), HERE, sealed)).toEqual([]);
    expect(sealedMarkers(KEY, HERE, sealed.replace(/^<!-- timebox:applied/m, "x <!-- timebox:applied"))).toHaveLength(1);
    expect(sealedMarkers(KEY, HERE, BODY)).toEqual([]);
  });

  it("takes its key from TIMEBOX_RECORD_KEY, else the app's private key wherever Probot finds it, and refuses to start without either", () => {
    const pem = "-----BEGIN RSA PRIVATE KEY-----\\nsecret\\n-----END RSA PRIVATE KEY-----";
    const empty = mkdtempSync(join(tmpdir(), "timebox-seal-"));
    const withPem = mkdtempSync(join(tmpdir(), "timebox-seal-"));
    writeFileSync(join(withPem, "timebox.2026-12-02.private-key.pem"), pem.replace(/\\n/g, "\n"));
    try {
      expect(recordKeyOf({ PRIVATE_KEY: pem }, empty).equals(KEY)).toBe(true);
      // As Probot reads it: base64 in PRIVATE_KEY, or the one .pem file of the working directory.
      expect(recordKeyOf({ PRIVATE_KEY: Buffer.from(pem.replace(/\\n/g, "\n")).toString("base64") }, empty).equals(KEY)).toBe(true);
      expect(recordKeyOf({}, withPem).equals(KEY)).toBe(true);
      expect(recordKeyOf({ PRIVATE_KEY: pem, TIMEBOX_RECORD_KEY: "k".repeat(32) }, empty).equals(KEY)).toBe(false);
      expect(() => recordKeyOf({ TIMEBOX_RECORD_KEY: "short" }, empty)).toThrow(/at least 32/);
      expect(() => recordKeyOf({}, empty)).toThrow(/PRIVATE_KEY/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
      rmSync(withPem, { recursive: true, force: true });
    }
  });
});
