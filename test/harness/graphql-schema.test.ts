/**
 * The emulated GitHub's GraphQL endpoint checks every query against GitHub's published schema
 * (`@octokit/graphql-schema`) before running it, as the REST routes are checked against the OpenAPI
 * description; queries Timebox sends run, and count against the `graphql` rate-limit resource.
 */
import { FakeClock } from "./clock.js";
import { GitHubEmulator } from "./github/index.js";

let gh: GitHubEmulator;

beforeAll(async () => {
  gh = new GitHubEmulator({ clock: new FakeClock("2026-03-02T09:00:00Z") });
  await gh.start();
  gh.createUser("dev1", { orgs: ["acme"] });
  gh.createUser("alice", { orgs: ["acme"] });
  gh.createRepo({ owner: "acme", name: "access", files: { "README.md": "# access\n" } });
});
afterAll(() => gh.stop());

async function post(query: string, variables: Record<string, unknown> = {}, path = "/api/graphql") {
  const res = await fetch(`http://${gh.host}${path}`, {
    method: "POST",
    headers: { authorization: `token ${gh.installationToken(1)}`, "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: res.status,
    resource: res.headers.get("x-ratelimit-resource"),
    body: (await res.json()) as { data?: any; errors?: Array<{ message: string }> },
  };
}

test("a query naming a field GitHub's schema does not have is refused with GitHub's errors, and nothing runs", async () => {
  const { status, body } = await post(`query { repository(owner: "acme", name: "access") { name approvedBy } }`);
  expect(status).toBe(200);
  expect(body.data).toBeUndefined();
  expect(body.errors?.map((e) => e.message)).toEqual([`Cannot query field "approvedBy" on type "Repository".`]);
});

test("an argument of the wrong type is refused too", async () => {
  const { body } = await post(`query($n: String!) { repository(owner: "acme", name: "access") { pullRequest(number: $n) { number } } }`, { n: "1" });
  expect(body.errors?.[0].message).toMatch(/Variable "\$n" of type "String!" used in position expecting type "Int!"/);
});

test("a valid query runs against the repository's state, counted in the graphql rate-limit resource", async () => {
  const pr = gh.openPullRequest({ author: "dev1", files: { "grants/a.yaml": "requester: dev1\n" } });
  gh.submitReview(pr.number!, { reviewer: "alice", state: "APPROVED" });
  const merge = gh.merge(pr.number!, { by: "alice" });
  const tip = gh.branchHead()!;
  const { resource, body } = await post(
    `query($owner: String!, $name: String!, $tip: GitObjectID!, $p: String!) { repository(owner: $owner, name: $name) {
      tip: object(oid: $tip) { ... on Commit { history(first: 1, path: $p) { nodes { oid associatedPullRequests(first: 5) { nodes { number mergedAt mergeCommit { oid } author { __typename login }
        reviews(first: 10) { nodes { state author { login } } } } } } } file(path: $p) { oid type mode object { ... on Blob { text } } } } } } }`,
    { owner: "acme", name: "access", tip, p: "grants/a.yaml" },
  );
  expect(resource).toBe("graphql");
  expect(body.errors).toBeUndefined();
  const pull = body.data.repository.tip.history.nodes[0].associatedPullRequests.nodes[0];
  expect(pull).toMatchObject({ number: pr.number, mergeCommit: { oid: merge.sha }, author: { __typename: "User", login: "dev1" } });
  expect(pull.reviews.nodes).toEqual([{ state: "APPROVED", author: { login: "alice" } }]);
  expect(body.data.repository.tip.file).toMatchObject({ type: "blob", mode: 0o100644, object: { text: "requester: dev1\n" } });
});

test("another installation's repository does not resolve", async () => {
  gh.createRepo({ owner: "other", name: "secret", installationId: 2, files: { "a.txt": "x\n" } });
  const { body } = await post(`query { repository(owner: "other", name: "secret") { name } }`, {}, "/graphql");
  expect(body.data?.repository).toBeNull();
  expect(body.errors?.[0].message).toMatch(/Could not resolve to a Repository/);
});
