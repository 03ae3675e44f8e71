/** Route templates as metric labels: every URL maps to one of GitHub's routes, or `other`. */
import { ProbotOctokit } from "probot";
import { RouteCatalog } from "../../src/metrics/github-routes.js";

const catalog = new RouteCatalog();
catalog.learn(new ProbotOctokit({ auth: { token: "x" } }));

test.each([
  // [method, url as Octokit's hooks see it, base URL, route]
  ["GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "https://api.github.com", "/repos/{owner}/{repo}/pulls/{pull_number}"],
  ["get", "/repos/{owner}/{repo}", "https://api.github.com", "/repos/{owner}/{repo}"],
  ["POST", "/graphql", "https://api.github.com", "/graphql"],
  // Concrete paths: the most specific template wins.
  ["GET", "/repos/acme/access/pulls/comments", "https://api.github.com", "/repos/{owner}/{repo}/pulls/comments"],
  ["GET", "/repos/acme/access/pulls/12", "https://api.github.com", "/repos/{owner}/{repo}/pulls/{pull_number}"],
  // Pagination's `next` links: absolute, with a query, under GHES's /api/v3, or by repository id.
  ["GET", "https://api.github.com/repositories/123456/commits?sha=main&page=2", "https://api.github.com", "/repos/{owner}/{repo}/commits"],
  [
    "GET",
    "https://ghe.example.com/api/v3/repos/acme/access/issues/3/comments?page=4",
    "https://ghe.example.com/api/v3",
    "/repos/{owner}/{repo}/issues/{issue_number}/comments",
  ],
  ["GET", "https://api.github.com/installation/repositories?per_page=100&page=2", "https://api.github.com", "/installation/repositories"],
  // Nothing GitHub has: `other`, whatever the URL carries.
  ["GET", "/users/dev1/secret-things", "https://api.github.com", "other"],
  ["DELETE", "/graphql", "https://api.github.com", "other"],
  ["GET", "/repos/%E0%A4%A/x", "https://api.github.com", "other"],
])("%s %s (API at %s) is %s", (method, url, base, route) => {
  expect(catalog.routeOf(method, url, base)).toBe(route);
});

test("before any client is seen, only GraphQL is known and everything else is `other`", () => {
  const empty = new RouteCatalog();
  expect(empty.routeOf("GET", "/repos/{owner}/{repo}")).toBe("other");
  expect(empty.routeOf("POST", "/graphql")).toBe("/graphql");
});
