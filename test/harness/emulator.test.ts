import { createServer } from "node:http";
import { createHmac, generateKeyPairSync } from "node:crypto";
import type { AddressInfo } from "node:net";
import { Probot, ProbotOctokit } from "probot";
import { FakeClock } from "./clock.js";
import { GitHubEmulator } from "./github/emulator.js";
import { parseLink, restClient } from "./github/testing.js";

const HOUR = 3600_000;

describe("GitHubEmulator", () => {
  let clock: FakeClock;
  let emu: GitHubEmulator;
  let api: ReturnType<typeof restClient>;

  beforeEach(async () => {
    clock = new FakeClock("2024-05-01T10:00:00Z");
    emu = new GitHubEmulator({ clock });
    await emu.start();
    emu.createRepo({
      owner: "acme",
      name: "access",
      files: {
        ".github/timebox.yml": "resources: {}\n",
        "grants/real.yaml": "requester: dev1\n",
        "grants/link.yaml": { content: "real.yaml", mode: "120000" },
        "grants/outside.yaml": { content: "../../etc/passwd", mode: "120000" },
        "vendor/sub": { sha: "a".repeat(40), mode: "160000" },
      },
    });
    api = restClient(emu, emu.installationToken(1));
  });

  afterEach(() => emu.stop());

  test("serves routes with and without /api/v3 and logs token kinds", async () => {
    const a = await api("GET", "/repos/acme/access");
    expect(a.status).toBe(200);
    expect(a.body.default_branch).toBe("main");
    const b = await api("GET", `http://${emu.host}/repos/acme/access`);
    expect(b.status).toBe(200);
    const p = await restClient(emu, emu.providerToken)("GET", "/users/dev1");
    expect(p.status).toBe(404);
    expect(emu.callCount({ route: "/repos/{owner}/{repo}", tokenKind: "installation" })).toBe(2);
    expect(emu.callCount({ tokenKind: "provider" })).toBe(1);
    const unknown = await api("GET", "/repos/acme/access/secret-scanning/alerts");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(expect.objectContaining({ message: "Not Found" }));
    expect(emu.unknownRequests()).toHaveLength(1);
    const noAuth = await fetch(`${emu.baseUrl}/repos/acme/access`);
    expect(noAuth.status).toBe(401);
  });

  test("installation tokens only see their installation's repositories", async () => {
    emu.createRepo({ owner: "other", name: "repo", installationId: 2 });
    expect((await api("GET", "/repos/other/repo")).status).toBe(404);
    expect((await restClient(emu, emu.installationToken(2))("GET", "/repos/other/repo")).status).toBe(200);
  });

  test("ref update is a compare-and-swap: non-fast-forward is refused with 422", async () => {
    const main = emu.branchHead()!;
    const mk = async (parent: string, content: string) => {
      const tree = await api("POST", "/repos/acme/access/git/trees", {
        base_tree: emu.commit(parent)!.tree,
        tree: [{ path: "grants/real.yaml", mode: "100644", type: "blob", content }],
      });
      const c = await api("POST", "/repos/acme/access/git/commits", { message: "x", tree: tree.body.sha, parents: [parent] });
      return c.body.sha as string;
    };
    const mine = await mk(main, "mine\n");
    // someone else moves main first
    emu.pushCommit({ files: { "other.txt": "x" }, author: "dev2" });
    const refused = await api("PATCH", "/repos/acme/access/git/refs/heads%2Fmain", { sha: mine, force: false });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toBe("Update is not a fast forward");
    // retry on top of the new head succeeds
    const retry = await mk(emu.branchHead()!, "mine\n");
    const ok = await api("PATCH", "/repos/acme/access/git/refs/heads/main", { sha: retry });
    expect(ok.status).toBe(200);
    expect(emu.branchHead()).toBe(retry);
    expect(emu.fileAt("main", "grants/real.yaml")).toBe("mine\n");
    expect(emu.fileAt("main", "other.txt")).toBe("x");
  });

  test("tree deletion with sha null, and protected branches refuse the app token", async () => {
    const head = emu.commit(emu.branchHead()!)!;
    const tree = await api("POST", "/repos/acme/access/git/trees", {
      base_tree: head.tree,
      tree: [{ path: "grants/real.yaml", mode: "100644", type: "blob", sha: null }],
    });
    expect(tree.status).toBe(201);
    const c = await api("POST", "/repos/acme/access/git/commits", { message: "Remove grant", tree: tree.body.sha, parents: [head.sha] });
    expect(c.body.author.date).toBe("2024-05-01T10:00:00Z");
    emu.protectBranch("main");
    const refused = await api("PATCH", "/repos/acme/access/git/refs/heads/main", { sha: c.body.sha });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(/^Protected branch update failed/);
    emu.protectBranch("main", { allowApp: true });
    expect((await api("PATCH", "/repos/acme/access/git/refs/heads/main", { sha: c.body.sha })).status).toBe(200);
    expect(emu.fileAt("main", "grants/real.yaml")).toBeUndefined();
    const rec = await api("GET", "/repos/acme/access/git/trees/main?recursive=1");
    expect(rec.body.tree.map((e: any) => `${e.mode} ${e.path}`)).toEqual(
      expect.arrayContaining(["040000 grants", "120000 grants/link.yaml", "160000 vendor/sub"]),
    );
  });

  test("contents follows in-repo symlinks, not outside ones; directories list; 404 when absent", async () => {
    const link = await api("GET", "/repos/acme/access/contents/grants%2Flink.yaml?ref=main");
    expect(link.body.type).toBe("file");
    expect(link.body.path).toBe("grants/real.yaml");
    expect(Buffer.from(link.body.content, "base64").toString()).toBe("requester: dev1\n");
    const out = await api("GET", "/repos/acme/access/contents/grants/outside.yaml");
    expect(out.body.type).toBe("symlink");
    expect(out.body.target).toBe("../../etc/passwd");
    const dir = await api("GET", "/repos/acme/access/contents/grants");
    expect(dir.body.map((e: any) => [e.name, e.type])).toEqual([
      ["link.yaml", "symlink"],
      ["outside.yaml", "symlink"],
      ["real.yaml", "file"],
    ]);
    expect((await api("GET", "/repos/acme/access/contents/nope.yaml")).status).toBe(404);
    const root = await api("GET", "/repos/acme/access/contents/");
    expect(root.body.map((e: any) => e.name)).toEqual([".github", "grants", "vendor"]);
    const raw = await api("GET", "/repos/acme/access/contents/grants/real.yaml", undefined, { accept: "application/vnd.github.raw+json" });
    expect(raw.body).toBe("requester: dev1\n");
  });

  test("pull request files paginate past 100 with Link headers, capped at 3000", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 250; i++) files[`grants/g${String(i).padStart(3, "0")}.yaml`] = `n: ${i}\n`;
    const pr = emu.openPullRequest({ author: "dev1", files, title: "many" });
    const seen: string[] = [];
    let url: string | undefined = `/repos/acme/access/pulls/${pr.number}/files?per_page=100`;
    let pages = 0;
    while (url) {
      const res: any = await api("GET", url);
      seen.push(...res.body.map((f: any) => f.filename));
      const link = parseLink(res.headers.get("link"));
      if (pages === 0) expect(link.last).toMatch(/page=3/);
      url = link.next;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    const over = await api("GET", `/repos/acme/access/pulls/${pr.number}/files?per_page=500`);
    expect(over.body).toHaveLength(100);
  });

  test("merge creates a two-parent merge commit and stamps merged_at from the injected clock", async () => {
    const pr = emu.openPullRequest({ author: "dev1", files: { "grants/new.yaml": "requester: dev1\n" } });
    clock.advance(2 * HOUR);
    emu.pushCommit({ files: { "unrelated.txt": "u" }, author: "dev2" });
    const before = emu.branchHead()!;
    clock.advance(HOUR);
    const merged = emu.merge(pr.number!, { by: "lead" });
    const got = await api("GET", `/repos/acme/access/pulls/${pr.number}`);
    expect(got.body.merged).toBe(true);
    expect(got.body.merged_at).toBe("2024-05-01T13:00:00Z");
    expect(got.body.merged_by.login).toBe("lead");
    expect(got.body.merge_commit_sha).toBe(merged.sha);
    expect(emu.commit(merged.sha!)!.parents).toEqual([before, pr.sha]);
    expect(emu.fileAt("main", "grants/new.yaml")).toBe("requester: dev1\n");
    expect(emu.fileAt("main", "unrelated.txt")).toBe("u");
    const closed = merged.find((e) => e.event === "pull_request")!;
    expect(closed.payload).toEqual(expect.objectContaining({ action: "closed", installation: expect.objectContaining({ id: 1 }) }));
    expect(closed.payload.pull_request.merged_at).toBe("2024-05-01T13:00:00Z");
    // git log -- path shows the PR's own (older) commit, not the merge
    const log = await api("GET", "/repos/acme/access/commits?path=grants/new.yaml");
    expect(log.body.map((c: any) => c.sha)).toEqual([pr.sha]);
    expect(log.body[0].commit.committer.date).toBe("2024-05-01T10:00:00Z");
    const pulls = await api("GET", `/repos/acme/access/commits/${merged.sha}/pulls`);
    expect(pulls.body.map((p: any) => p.number)).toEqual([pr.number]);
  });

  test("commit list paginates newest first with a Link header", async () => {
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000);
      emu.pushCommit({ files: { "n.txt": String(i) }, author: "dev1", message: `c${i}` });
    }
    const p1 = await api("GET", "/repos/acme/access/commits?per_page=2");
    expect(p1.body.map((c: any) => c.commit.message)).toEqual(["c4", "c3"]);
    const link = parseLink(p1.headers.get("link"));
    expect(link.next).toContain("/api/v3/repos/acme/access/commits?per_page=2&page=2");
    expect(link.last).toContain("page=3");
    const p3 = await api("GET", link.last);
    expect(p3.body.map((c: any) => c.commit.message)).toEqual(["c0", "Initial commit"]);
    expect(parseLink(p3.headers.get("link")).next).toBeUndefined();
  });

  test("reviews, comments, check runs round-trip with webhook-shaped payloads", async () => {
    const pr = emu.openPullRequest({ author: "dev1", files: { "grants/a.yaml": "x: 1\n" } });
    const opened = pr.find((e) => e.event === "pull_request")!;
    expect(opened.payload.sender.login).toBe("dev1");
    expect(opened.payload.pull_request.head.sha).toBe(pr.sha);
    const rv = emu.submitReview(pr.number!, { reviewer: "lead", state: "APPROVED" });
    expect(rv[0].payload.review.state).toBe("approved");
    expect(rv[0].payload.review.commit_id).toBe(pr.sha);
    expect(() => emu.submitReview(pr.number!, { reviewer: "dev1", state: "APPROVED" })).toThrow(/own pull request/);
    const reviews = await api("GET", `/repos/acme/access/pulls/${pr.number}/reviews`);
    expect(reviews.body[0]).toEqual(expect.objectContaining({ state: "APPROVED", commit_id: pr.sha, submitted_at: "2024-05-01T10:00:00Z" }));
    const sync = emu.pushToPullRequest(pr.number!, { pusher: "dev3", files: { "grants/a.yaml": "x: 2\n" } });
    expect(sync.map((e) => `${e.event}.${e.payload.action ?? ""}`)).toEqual(["push.", "pull_request.synchronize"]);
    expect(sync[1].payload.sender.login).toBe("dev3");

    const cr = await api("POST", "/repos/acme/access/check-runs", {
      name: "timebox/approval",
      head_sha: sync.sha,
      external_id: "pusher=dev3",
      status: "in_progress",
      output: { title: "t", summary: "s", annotations: [{ path: "grants/a.yaml", start_line: 1, end_line: 1, annotation_level: "failure", message: "bad" }] },
    });
    expect(cr.status).toBe(201);
    const upd = await api("PATCH", `/repos/acme/access/check-runs/${cr.body.id}`, {
      conclusion: "success",
      output: { title: "t2", summary: "s2", annotations: [{ path: "grants/a.yaml", start_line: 2, end_line: 2, annotation_level: "notice", message: "ok" }] },
    });
    expect(upd.body.status).toBe("completed");
    expect(upd.body.output.annotations_count).toBe(2);
    const tooMany = await api("PATCH", `/repos/acme/access/check-runs/${cr.body.id}`, {
      output: {
        title: "t",
        summary: "s",
        annotations: Array.from({ length: 51 }, () => ({ path: "a", start_line: 1, end_line: 1, annotation_level: "notice", message: "m" })),
      },
    });
    expect(tooMany.status).toBe(422);
    const tooLong = await api("POST", "/repos/acme/access/check-runs", { name: "x", head_sha: sync.sha, output: { title: "t", summary: "s".repeat(65536) } });
    expect(tooLong.status).toBe(422);
    const list = await api("GET", `/repos/acme/access/commits/${sync.sha}/check-runs?check_name=timebox/approval`);
    expect(list.body.total_count).toBe(1);
    expect(list.body.check_runs[0].external_id).toBe("pusher=dev3");
    expect(emu.checkRuns(sync.sha!)[0].output.annotations).toHaveLength(2);

    const c = await api("POST", `/repos/acme/access/issues/${pr.number}/comments`, { body: "plan" });
    expect(c.body.user).toEqual(expect.objectContaining({ login: "timebox[bot]", type: "Bot" }));
    clock.advance(1000);
    const e = await api("PATCH", `/repos/acme/access/issues/comments/${c.body.id}`, { body: "plan v2" });
    expect(e.body.updated_at).toBe("2024-05-01T10:00:01Z");
    expect(emu.comments(pr.number!).map((x) => x.body)).toEqual(["plan v2"]);
    const human = emu.comment(pr.number!, { author: "dev1", body: "/timebox plan" });
    expect(human[0].event).toBe("issue_comment");
    expect(human[0].payload.issue.pull_request).toBeDefined();
  });

  test("teams and collaborators", async () => {
    emu.createTeam({ org: "acme", slug: "sre", members: ["alice", { login: "bob", state: "pending" }] });
    emu.createUser("outsider");
    const prov = restClient(emu, emu.providerToken);
    expect((await prov("GET", "/orgs/acme/teams/sre/memberships/alice")).body).toEqual(expect.objectContaining({ state: "active", role: "member" }));
    expect((await prov("GET", "/orgs/acme/teams/sre/memberships/bob")).body.state).toBe("pending");
    expect((await prov("GET", "/orgs/acme/teams/sre/memberships/outsider")).status).toBe(404);
    expect((await prov("PUT", "/orgs/acme/teams/sre/memberships/outsider", { role: "member" })).body.state).toBe("pending");
    const members = await prov("GET", "/orgs/acme/teams/sre/members");
    expect(members.body.map((u: any) => u.login)).toEqual(["alice"]);
    expect((await prov("DELETE", "/orgs/acme/teams/sre/memberships/alice")).status).toBe(204);
    expect(emu.teamMembers("acme", "sre").map((m) => m.login)).toEqual(["bob", "outsider"]);

    expect((await prov("GET", "/repos/acme/access/collaborators/alice/permission")).body).toEqual(
      expect.objectContaining({ permission: "none", role_name: "none" }),
    );
    // alice is an org member (she was an active team member): added directly
    expect((await prov("PUT", "/repos/acme/access/collaborators/alice", { permission: "maintain" })).status).toBe(204);
    const perm = await prov("GET", "/repos/acme/access/collaborators/alice/permission");
    expect(perm.body).toEqual(expect.objectContaining({ permission: "write", role_name: "maintain" }));
    expect(emu.collaboratorPermission("alice")).toBe("maintain");
    // outsiders get an invitation
    expect((await prov("PUT", "/repos/acme/access/collaborators/outsider", { permission: "pull" })).status).toBe(201);
    expect(emu.collaboratorPermission("outsider")).toBe("none");
    emu.repo().acceptInvitation("outsider");
    expect(emu.collaboratorPermission("outsider")).toBe("read");
    expect((await prov("DELETE", "/repos/acme/access/collaborators/alice")).status).toBe(204);
    expect((await prov("GET", "/repos/acme/access/collaborators/alice")).status).toBe(404);
  });

  test("signed webhook delivery to an HTTP receiver", async () => {
    const got: { headers: Record<string, any>; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        got.push({ headers: req.headers, body });
        res.writeHead(202).end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const pr = emu.openPullRequest({ author: "dev1", files: { "grants/a.yaml": "x\n" } });
      const res = await emu.deliver(url, pr, { only: ["pull_request"] });
      expect(res.map((r) => r.status)).toEqual([202]);
      expect(got).toHaveLength(1);
      const h = got[0].headers;
      expect(h["x-github-event"]).toBe("pull_request");
      expect(h["x-github-delivery"]).toMatch(/^[0-9a-f-]{36}$/);
      const expected = "sha256=" + createHmac("sha256", emu.webhookSecret).update(got[0].body).digest("hex");
      expect(h["x-hub-signature-256"]).toBe(expected);
      expect(JSON.parse(got[0].body).action).toBe("opened");
    } finally {
      server.close();
    }
  });

  test("in-process Probot talks to the emulator over HTTP", async () => {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
    });
    const probot = new Probot({
      appId: emu.state.app.id,
      privateKey,
      baseUrl: emu.baseUrl,
      logLevel: "fatal",
      Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }),
    });
    const seen: string[] = [];
    await probot.load((app) => {
      app.on("pull_request.opened", async (context) => {
        const { data } = await context.octokit.rest.repos.getContent(context.repo({ path: ".github/timebox.yml", ref: context.payload.pull_request.base.ref }));
        seen.push(Buffer.from((data as any).content, "base64").toString());
        const files = await context.octokit.paginate(context.octokit.rest.pulls.listFiles, context.pullRequest({ per_page: 100 }));
        seen.push(files.map((f) => f.filename).join(","));
        await context.octokit.rest.checks.create(
          context.repo({
            name: "timebox/validate",
            head_sha: context.payload.pull_request.head.sha,
            conclusion: "success",
            output: { title: "ok", summary: "ok" },
          }),
        );
      });
    });
    const pr = emu.openPullRequest({ author: "dev1", files: { "grants/a.yaml": "x\n", "grants/b.yaml": "y\n" } });
    const res = await emu.deliver(probot, pr);
    expect(res.every((r) => r.status === 200)).toBe(true);
    expect(seen).toEqual(["resources: {}\n", "grants/a.yaml,grants/b.yaml"]);
    expect(emu.checkRuns(pr.sha!).map((c) => [c.name, c.conclusion])).toEqual([["timebox/validate", "success"]]);
    expect(emu.callCount({ route: "/app/installations/{installation_id}/access_tokens", tokenKind: "app" })).toBe(1);
    expect(emu.unknownRequests()).toEqual([]);
  });
});
