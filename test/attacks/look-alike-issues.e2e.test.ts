/**
 * Timebox's alert issues (a revocation that keeps failing, an unreviewed break-glass use) are its
 * own records: someone with triage or write rights, or a workflow, can open an issue with the same
 * label and the same hidden marker before Timebox does. Editing that issue instead of opening one
 * notifies nobody, and its author controls it; it must be ignored (design §2 rule 11c).
 */
import { createHash } from "node:crypto";
import { expect, jest, test } from "@jest/globals";
import { createIssue } from "../harness/github/ops.js";
import { grantYaml } from "../support/access-repo.js";
import { FaultyPool } from "../support/faulty-pool.js";
import { mergeApprovedGrant, postgresAccessPerTest, reconcile } from "../support/lifecycle-flow.js";

jest.setTimeout(60_000);

const env = postgresAccessPerTest({ pool: (providerEnv) => new FaultyPool(providerEnv) });
const GITHUB_ACTIONS = { id: 15368, slug: "github-actions" };
const PATH = "grants/dev1-prod-db.yaml";
const LABEL = "timebox:stuck-revoke";

/** Git's blob id of a file: anyone who can read the repository can compute it. */
const blobSha = (content: string) =>
  createHash("sha1")
    .update(`blob ${Buffer.byteLength(content)}\0${content}`)
    .digest("hex");

test("a stuck revocation is reported in a new issue Timebox opens, never in a look-alike a person or a workflow opened first", async () => {
  const { gh, clock } = env();
  const pool = env().pool as FaultyPool;
  const content = grantYaml();
  await mergeApprovedGrant(env(), { path: PATH, content });
  expect(await env().hasAccess()).toBe(true);

  // Before any revoke fails, a triager and a workflow each open an issue that looks like Timebox's alert.
  const marker = `<!-- timebox:stuck-revoke ${PATH}@${blobSha(content).slice(0, 12)} -->`;
  const repo = gh.repo(env().fullName).repo;
  const byPerson = createIssue(gh.state, repo, { title: "tracking", body: `${marker}\nnothing to see`, user: gh.state.user("mallory").login, labels: [LABEL] });
  const byWorkflow = createIssue(gh.state, repo, {
    title: "tracking",
    body: `${marker}\nnothing to see`,
    user: gh.state.user("github-actions[bot]", "Bot").login,
    labels: [LABEL],
    viaApp: GITHUB_ACTIONS,
  });

  pool.failures.revoke = Infinity;
  clock.advance(2 * 3600_000);
  for (let tick = 1; tick <= 3; tick++) {
    expect((await reconcile(env())).failures).toEqual([PATH]);
    clock.advance(60_000);
  }

  // Timebox opened its own alert issue (GitHub notifies on a new issue, never on an edit)...
  const alerts = gh.issues({ labels: [LABEL], state: "open" }).filter((i) => i.number !== byPerson.number && i.number !== byWorkflow.number);
  expect(alerts).toHaveLength(1);
  expect(alerts[0].user).toBe(gh.state.botLogin);
  expect(alerts[0].title).toBe(`Revocation is failing: ${PATH}`);
  expect(alerts[0].body).toContain("after 3 attempts");
  // ...and left the look-alikes as their authors wrote them.
  for (const fake of [byPerson, byWorkflow]) {
    expect(fake.title).toBe("tracking");
    expect(fake.body).toBe(`${marker}\nnothing to see`);
    expect(fake.state).toBe("open");
  }

  // The provider recovers: Timebox closes its own issue, not the look-alikes, and comments on none of them.
  pool.failures.revoke = 0;
  clock.advance(60_000);
  expect((await reconcile(env())).revoked).toEqual([PATH]);
  expect(await env().hasAccess()).toBe(false);
  expect(alerts[0].state).toBe("closed");
  for (const fake of [byPerson, byWorkflow]) {
    expect(fake.state).toBe("open");
    expect(gh.comments(fake.number)).toEqual([]);
  }
});
