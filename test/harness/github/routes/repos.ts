import { posix } from "node:path";
import * as render from "../render.js";
import { HttpError, notFound, paginate, repoOf, type Ctx, type Router } from "../router.js";
import { b64, resolveCommit } from "../resolve.js";
import { commitsBetween } from "../ops.js";
import type { TreeEntry } from "../git.js";
import type { Repo } from "../state.js";

function contentItem(ctx: Ctx, r: Repo, path: string, e: TreeEntry, ref: string) {
  const api = `${ctx.st.api}/repos/${r.fullName}`;
  const enc = path.split("/").map(encodeURIComponent).join("/");
  const kind = e.type === "tree" ? "tree" : "blob";
  const html = `${ctx.st.origin}/${r.fullName}/${kind}/${ref}/${enc}`;
  const git = e.type === "commit" ? null : `${api}/git/${kind === "tree" ? "trees" : "blobs"}/${e.sha}`;
  const self = `${api}/contents/${enc}?ref=${encodeURIComponent(ref)}`;
  const type = e.type === "tree" ? "dir" : e.mode === "120000" ? "symlink" : e.mode === "160000" ? "submodule" : "file";
  return {
    type,
    size: e.type === "blob" ? (r.git.blobs.get(e.sha)?.length ?? 0) : 0,
    name: posix.basename(path),
    path,
    sha: e.sha,
    url: self,
    git_url: git,
    html_url: e.type === "commit" ? null : html,
    download_url: type === "file" ? `${ctx.st.origin}/${r.fullName}/raw/${ref}/${enc}` : null,
    _links: { self, git, html: e.type === "commit" ? null : html },
  };
}

export function repoRoutes(router: Router): void {
  router.on("GET", "/repos/{owner}/{repo}/branches/{branch}", (ctx) => {
    const r = repoOf(ctx);
    const sha = ctx.st.ref(r, ctx.params.branch);
    if (!sha) throw new HttpError(404, "Branch not found");
    const api = `${ctx.st.api}/repos/${r.fullName}`;
    const prot = r.protected.has(ctx.params.branch);
    return {
      body: {
        name: ctx.params.branch,
        commit: render.restCommit(ctx.st, r, r.git.commits.get(sha)!),
        _links: { self: `${api}/branches/${ctx.params.branch}`, html: `${ctx.st.origin}/${r.fullName}/tree/${ctx.params.branch}` },
        protected: prot,
        protection: { enabled: prot, required_status_checks: { enforcement_level: "off", contexts: [], checks: [] } },
        protection_url: `${api}/branches/${ctx.params.branch}/protection`,
      },
    };
  });

  router.on("GET", "/repos/{owner}/{repo}/contents/{path}", (ctx) => {
    const r = repoOf(ctx);
    const refName = ctx.query.get("ref") ?? r.defaultBranch;
    const sha = resolveCommit(r, refName);
    if (!sha) throw new HttpError(404, `No commit found for the ref ${refName}`);
    const tree = r.git.commits.get(sha)!.tree;
    let path = ctx.params.path.replace(/^\/+|\/+$/g, "");
    const found = r.git.entryAt(tree, path);
    if (!found) throw notFound();
    let e: TreeEntry = found;
    // Follow symlinks to in-repo files, like GitHub does.
    for (let hops = 0; e.mode === "120000" && hops < 10; hops++) {
      const target: string = r.git.blobs.get(e.sha)!.toString("utf8");
      const resolved = posix.normalize(posix.join(posix.dirname(path), target));
      const t: TreeEntry | undefined = target.startsWith("/") || resolved.startsWith("..") ? undefined : r.git.entryAt(tree, resolved);
      if (!t || t.type !== "blob") {
        return { body: { ...contentItem(ctx, r, path, e, refName), target } };
      }
      path = resolved;
      e = t;
    }
    if (e.type === "tree") {
      const items = r.git.treeEntries(e.sha).map((c) => {
        const item = contentItem(ctx, r, path ? `${path}/${c.path}` : c.path, c, refName);
        return item.type === "submodule" ? { ...item, type: "file" } : item; // GitHub's documented quirk
      });
      return { body: items };
    }
    if (e.type === "commit") return { body: { ...contentItem(ctx, r, path, e, refName), submodule_git_url: `${ctx.st.origin}/unknown/submodule.git` } };
    const buf = r.git.blobs.get(e.sha)!;
    if (/raw/.test(String(ctx.headers.accept ?? ""))) return { raw: buf };
    return { body: { ...contentItem(ctx, r, path, e, refName), content: b64(buf), encoding: "base64" } };
  });

  router.on("GET", "/repos/{owner}/{repo}/commits", (ctx) => {
    const r = repoOf(ctx);
    const from = resolveCommit(r, ctx.query.get("sha"));
    if (!from) throw new HttpError(404, `No commit found for SHA: ${ctx.query.get("sha")}`);
    const path = ctx.query.get("path")?.replace(/^\/+|\/+$/g, "") || undefined;
    const since = ctx.query.get("since");
    const until = ctx.query.get("until");
    const author = ctx.query.get("author")?.toLowerCase();
    let commits = r.git.log(from, path);
    if (since) commits = commits.filter((c) => new Date(c.committer.date) >= new Date(since));
    if (until) commits = commits.filter((c) => new Date(c.committer.date) <= new Date(until));
    if (author) {
      const u = ctx.st.findUser(author);
      commits = commits.filter((c) => c.author.email.toLowerCase() === author || (u && c.author.email === u.email));
    }
    const { page, headers } = paginate(ctx, commits);
    return { body: page.map((c) => render.restCommit(ctx.st, r, c)), headers };
  });

  router.on("GET", "/repos/{owner}/{repo}/commits/{ref}", (ctx) => {
    const r = repoOf(ctx);
    const sha = resolveCommit(r, ctx.params.ref);
    if (!sha) throw new HttpError(422, `No commit found for SHA: ${ctx.params.ref}`);
    const c = r.git.commits.get(sha)!;
    const parent = c.parents[0] ? r.git.commits.get(c.parents[0])!.tree : null;
    return { body: render.restCommit(ctx.st, r, c, r.git.diff(parent, c.tree)) };
  });

  router.on("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", (ctx) => {
    const r = repoOf(ctx);
    const sha = resolveCommit(r, ctx.params.commit_sha);
    if (!sha) throw new HttpError(422, `No commit found for SHA: ${ctx.params.commit_sha}`);
    const prs = [...r.pulls.values()]
      .filter((p) => p.mergeCommitSha === sha || p.commits.includes(sha) || !!p.rebased?.includes(sha))
      .sort((a, b) => b.number - a.number);
    const { page, headers } = paginate(ctx, prs);
    return { body: page.map((p) => render.pull(ctx.st, r, p, false)), headers };
  });

  router.on("GET", "/repos/{owner}/{repo}/compare/{basehead}", (ctx) => {
    const r = repoOf(ctx);
    const m = /^(.+?)\.\.\.?(.+)$/.exec(ctx.params.basehead);
    if (!m) throw notFound();
    const base = resolveCommit(r, m[1]);
    const head = resolveCommit(r, m[2]);
    if (!base || !head) throw notFound();
    const mb = r.git.mergeBase(base, head);
    const ahead = commitsBetween(r, base, head);
    const behind = commitsBetween(r, head, base);
    const status = base === head ? "identical" : ahead.length && behind.length ? "diverged" : ahead.length ? "ahead" : "behind";
    const files = r.git.diff(mb ? r.git.commits.get(mb)!.tree : null, r.git.commits.get(head)!.tree);
    const { page, headers } = paginate(ctx, ahead);
    const web = `${ctx.st.origin}/${r.fullName}/compare/${ctx.params.basehead}`;
    return {
      headers,
      body: {
        url: `${ctx.st.api}/repos/${r.fullName}/compare/${ctx.params.basehead}`,
        html_url: web,
        permalink_url: `${ctx.st.origin}/${r.fullName}/compare/${base}...${head}`,
        diff_url: `${web}.diff`,
        patch_url: `${web}.patch`,
        base_commit: render.restCommit(ctx.st, r, r.git.commits.get(base)!),
        merge_base_commit: mb ? render.restCommit(ctx.st, r, r.git.commits.get(mb)!) : null,
        status,
        ahead_by: ahead.length,
        behind_by: behind.length,
        total_commits: ahead.length,
        commits: page.map((s) => render.restCommit(ctx.st, r, r.git.commits.get(s)!)),
        files: files.map((f) => render.diffEntry(ctx.st, r, head, f)),
      },
    };
  });
}
