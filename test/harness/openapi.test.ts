import { FakeClock } from "./clock.js";
import { GitHubEmulator } from "./github/emulator.js";
import { check, loadSpec, operation, responseSchema } from "./github/openapi-check.js";
import { restClient } from "./github/testing.js";

describe("the emulator matches GitHub's OpenAPI description", () => {
  beforeAll(() => {
    loadSpec(); // large; loaded once
  });

  test("the checker itself notices missing, mistyped and out-of-enum fields", () => {
    const schema = responseSchema("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}", 200)!;
    expect(check(schema, { id: "1", state: "APPROVED" })).toEqual(
      expect.arrayContaining(["$.node_id: missing (required)", "$.id: string but schema is integer"]),
    );
    const team = responseSchema("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", 200)!;
    expect(check(team, { url: "u", role: "member", state: "sleeping" })).toEqual(['$.state: "sleeping" not in enum ["active","pending"]']);
  });

  test("every served REST route exists in api.github.com.json (GraphQL is checked against its own schema: graphql-schema.test.ts)", () => {
    const emu = new GitHubEmulator();
    const rest = emu.router.routes.filter((r) => !/^(\/api)?\/graphql$/.test(r.template));
    expect(emu.router.routes.length - rest.length).toBe(2);
    const missing = rest.filter((r) => !operation(r.method, r.template)).map((r) => `${r.method} ${r.template}`);
    expect(missing).toEqual([]);
    expect(emu.router.routes.length).toBeGreaterThan(60);
  });

  test("responses of the main endpoints carry the schema's required properties with the right types", async () => {
    const clock = new FakeClock("2024-05-01T10:00:00Z");
    const emu = new GitHubEmulator({ clock });
    await emu.start();
    try {
      emu.createRepo({
        owner: "acme",
        name: "access",
        files: { ".github/timebox.yml": "x: 1\n", "grants/a.yaml": "a\n", "grants/l.yaml": { content: "a.yaml", mode: "120000" } },
      });
      emu.createTeam({ org: "acme", slug: "sre", members: ["alice"] });
      const pr = emu.openPullRequest({ author: "dev1", files: { "grants/b.yaml": "b\n" }, title: "grant" });
      const rv = emu.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" });
      const n = pr.number!;
      const inst = restClient(emu, emu.installationToken(1));
      const prov = restClient(emu, emu.providerToken);
      const main = emu.branchHead()!;
      const tree = emu.commit(main)!.tree;

      const calls: [typeof inst, string, string, unknown?][] = [
        [inst, "GET", "/repos/acme/access"],
        [inst, "GET", "/repos/acme/access/branches/main"],
        [inst, "GET", "/repos/acme/access/contents/grants/a.yaml"],
        [inst, "GET", "/repos/acme/access/contents/grants"],
        [inst, "GET", "/repos/acme/access/git/ref/heads/main"],
        [inst, "GET", `/repos/acme/access/git/trees/${tree}?recursive=1`],
        [inst, "GET", `/repos/acme/access/git/commits/${main}`],
        [inst, "POST", "/repos/acme/access/git/blobs", { content: "hi", encoding: "utf-8" }],
        [inst, "POST", "/repos/acme/access/git/trees", { base_tree: tree, tree: [{ path: "x", mode: "100644", type: "blob", content: "x" }] }],
        [inst, "GET", "/repos/acme/access/commits?path=grants"],
        [inst, "GET", `/repos/acme/access/commits/${pr.sha}`],
        [inst, "GET", `/repos/acme/access/commits/${pr.sha}/pulls`],
        [inst, "GET", `/repos/acme/access/compare/main...${pr.sha}`],
        [inst, "GET", "/repos/acme/access/pulls?state=all"],
        [inst, "GET", `/repos/acme/access/pulls/${n}`],
        [inst, "GET", `/repos/acme/access/pulls/${n}/files`],
        [inst, "GET", `/repos/acme/access/pulls/${n}/reviews`],
        [inst, "PUT", `/repos/acme/access/pulls/${n}/reviews/${rv.reviewId}/dismissals`, { message: "stale" }],
        [inst, "POST", `/repos/acme/access/issues/${n}/comments`, { body: "plan" }],
        [inst, "GET", `/repos/acme/access/issues/${n}/comments`],
        [inst, "POST", "/repos/acme/access/issues", { title: "Unapproved grant", labels: ["timebox"] }],
        [inst, "GET", "/repos/acme/access/issues?labels=timebox"],
        [inst, "GET", "/repos/acme/access/labels"],
        [inst, "POST", `/repos/acme/access/issues/${n}/labels`, { labels: ["timebox:breakglass"] }],
        [inst, "GET", "/repos/acme/access/issues?labels=timebox:breakglass&state=all&since=2000-01-01T00:00:00Z"],
        [inst, "PATCH", `/repos/acme/access/pulls/${n}`, { state: "closed" }],
        [inst, "PATCH", `/repos/acme/access/pulls/${n}`, { state: "open" }],
        [inst, "GET", `/repos/acme/access/issues/${n}/events`],
        [inst, "GET", "/repos/acme/access/pulls?state=open&base=main"],
        [
          inst,
          "POST",
          "/repos/acme/access/check-runs",
          { name: "timebox/validate", head_sha: pr.sha, status: "completed", conclusion: "success", external_id: "e", output: { title: "t", summary: "s" } },
        ],
        [inst, "GET", `/repos/acme/access/commits/${pr.sha}/check-runs`],
        [prov, "GET", "/orgs/acme/teams/sre/memberships/alice"],
        [prov, "GET", "/orgs/acme/teams/sre/members"],
        [prov, "GET", "/repos/acme/access/collaborators/alice/permission"],
        [prov, "PUT", "/repos/acme/access/collaborators/dev1", { permission: "push" }],
        [prov, "GET", "/users/alice"],
        [inst, "PUT", `/repos/acme/access/pulls/${n}/merge`, {}],
      ];
      const problems: string[] = [];
      for (const [client, method, path, body] of calls) {
        const res = await client(method, path, body);
        const rec = emu.requests[emu.requests.length - 1];
        const label = `${method} ${rec.route ?? path} → ${res.status}`;
        if (res.status >= 300) {
          problems.push(`${label}: ${JSON.stringify(res.body)}`);
          continue;
        }
        const schema = responseSchema(method, rec.route!, res.status);
        if (!schema) {
          problems.push(`${label}: the spec has no JSON ${res.status} response`);
          continue;
        }
        problems.push(...check(schema, res.body).map((p) => `${label}: ${p}`));
      }
      expect(problems).toEqual([]);
    } finally {
      await emu.stop();
    }
  });
});
