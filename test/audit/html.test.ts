/** `--format html`: one self-contained, escaped file, rendered by headless Chromium. */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { renderHtml } from "../../src/audit/html/page.js";
import { cli } from "../cli/repo.js";
import { chromiumPath, chromiumRequired, pngSize, runChromium } from "./chromium.js";
import { GitRepo, grantYaml, removeGitRepos, tempDir, TRUST } from "./git-repo.js";
import { outcome, removal } from "./messages.js";
import { storiesRepo, STORY_ROWS } from "./stories.js";

afterAll(removeGitRepos);

const HOSTILE_REASON = `<script>document.title="pwned"</script><img src=x onerror="document.title='img'"> & "quotes" 'single'`;
/** Not a grant path (src/grants/files.ts), but a record Timebox did not write may name it: the findings show it. */
const HOSTILE_PATH = "grants/<b>bold</b>.yaml";

/** The stories, plus a grant whose text, and a look-alike record whose path, try to inject markup. */
function hostileRepo(): GitRepo {
  const repo = storiesRepo();
  repo
    .write({ "grants/dev9.yaml": grantYaml({ requester: "dev9", duration: "1h", reason: HOSTILE_REASON, ticket: "INC-9" }) })
    .commit("Hostile (#40)", "2026-03-02T20:00:00Z");
  repo.commitAsTimebox(outcome({ path: HOSTILE_PATH, pr: 40, text: "x", by: "dev9", at: "2026-03-02T20:30:00Z" }), "2026-03-02T20:30:00Z", {
    signature: "none",
  });
  repo.rm("grants/dev9.yaml").commitAsTimebox(
    removal({
      path: "grants/dev9.yaml",
      requester: "dev9",
      approvedBy: ["</td><script>x()</script>"],
      pr: 40,
      grantedAt: "2026-03-02T20:00:00Z",
      expiresAt: "2026-03-02T21:00:00Z",
      revokedAt: "2026-03-02T21:00:01Z",
      reason: "expired",
    }),
    "2026-03-02T21:00:02Z",
  );
  return repo;
}

let html: string;
let file: string;
beforeAll(async () => {
  const repo = hostileRepo();
  file = join(tempDir(), "audit.html");
  const r = await cli(["audit", ...TRUST(), "--repo", repo.root, "--format", "html", "--out", file], "/");
  expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
  html = readFileSync(file, "utf8");
}, 30_000); // a long history, built with real git (and signed): slow on a busy machine

describe("the file", () => {
  test("is self-contained: no script, no external resource, a CSP that forbids both", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)="(?!#)/i); // only in-page links
    expect(html).not.toMatch(/url\((?!#)/i);
    expect(html).not.toMatch(/@import|@font-face/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  });

  test("escapes every recorded value: reasons, paths, approvers", () => {
    expect(html).toContain(
      "&#60;script&#62;document.title=&#34;pwned&#34;&#60;/script&#62;&#60;img src=x onerror=&#34;document.title=&#39;img&#39;&#34;&#62; &#38; &#34;quotes&#34; &#39;single&#39;",
    );
    expect(html).toContain("grants/&#60;b&#62;bold&#60;/b&#62;.yaml");
    expect(html).not.toContain("<b>bold</b>");
    expect(html).toContain("&#60;/td&#62;&#60;script&#62;x()&#60;/script&#62;");
  });

  test("has the findings, a timeline per resource and a table row per grant", () => {
    expect(html.match(/<article class="finding /g)).toHaveLength(9);
    expect(html.match(/<svg class="timeline"/g)).toHaveLength(1); // one resource: prod-db
    expect(html.match(/<tr id="row-\d+"/g)).toHaveLength(STORY_ROWS.length + 1);
  });
});

test("a long finding shows its first items and folds the rest in <details> (no script needed)", () => {
  const items = Array.from({ length: 20 }, (_, i) => ({
    summary: `item ${i}`,
    grants: [{ row: i + 1, grant: `grants/g${i}.yaml`, requester: "dev1", pull_request: i, granted_at: "2026-03-02T10:00:00Z" }],
  }));
  const page = renderHtml({
    rows: [],
    findings: [{ id: "no-outcome", title: "Grants with no recorded outcome", rule: "r", status: "found", items }],
    context: { repository: "acme/access", commit: "abc", generatedAt: new Date("2026-03-03T00:00:00Z"), scope: "" },
  });
  const [shown, folded] = page.split("<details><summary>Show the other 12</summary>");
  expect(shown.match(/<li>item \d+ /g)).toHaveLength(8);
  expect(folded.match(/<li>item \d+ /g)).toHaveLength(12);
  expect(page).toContain('<p class="empty">No grant in this report.</p>');
});

const chromium = chromiumPath();
const rendering = chromium || chromiumRequired() ? describe : describe.skip;

rendering("rendered by headless Chromium", () => {
  test("Chromium is installed (TIMEBOX_TEST_CHROMIUM asks for it)", () => {
    expect(chromium).toBeDefined();
  });

  test("the DOM Chromium builds holds the timeline bars, break-glass marked, and the hostile text as text", async () => {
    const dom = await runChromium(chromium!, file, "dump-dom");
    // Had any injected script run, it would have renamed the page.
    expect(/<title>([^<]*)<\/title>/.exec(dom)?.[1]).toMatch(/^Access audit — timebox-audit-\w+$/);
    expect(dom).not.toMatch(/<script/i);
    expect(dom).not.toMatch(/<img/i);
    expect(dom.match(/<g class="bar[^"]*" data-row="\d+">/g)).toHaveLength(STORY_ROWS.length + 1);
    expect(dom.match(/<g class="bar breakglass[^"]*"/g)).toHaveLength(3);
    expect(dom).toMatch(/<g class="bar unapplied" data-row="12">/); // the direct push
    expect(dom).toContain('&lt;script&gt;document.title="pwned"&lt;/script&gt;');
    expect(dom.match(/<tr id="row-\d+"/g)).toHaveLength(STORY_ROWS.length + 1);
  }, 120_000);

  test("a screenshot of the page is a full-width, non-trivial image", async () => {
    const png = join(tempDir(), "audit.png");
    await runChromium(chromium!, file, { screenshot: png });
    expect(pngSize(readFileSync(png))).toEqual({ width: 1280, height: 2000 });
    // A blank or error page compresses to a few kilobytes; this page's text, bars and table do not.
    expect(statSync(png).size).toBeGreaterThan(60_000);
  }, 120_000);
});
