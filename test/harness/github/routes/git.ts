import * as render from "../render.js";
import { HttpError, notFound, repoOf, requireFields, unprocessable, type Ctx, type Router } from "../router.js";
import { b64, resolveCommit } from "../resolve.js";
import { updateRef } from "../ops.js";
import { actorOf } from "../ops.js";
import { WEB_FLOW, webFlowCommit, type FileMode, type FlatTree } from "../git.js";
import type { Repo } from "../state.js";

const MODES = new Set(["100644", "100755", "040000", "160000", "120000"]);

function refJson(ctx: Ctx, r: Repo, full: string, sha: string) {
  const api = `${ctx.st.api}/repos/${r.fullName}`;
  return {
    ref: full,
    node_id: ctx.st.nodeId("Ref", full.length + r.id),
    url: `${api}/git/${full}`,
    object: { type: "commit", sha, url: `${api}/git/commits/${sha}` },
  };
}

function treeJson(ctx: Ctx, r: Repo, sha: string, recursive: boolean) {
  const api = `${ctx.st.api}/repos/${r.fullName}`;
  const entries = recursive ? r.git.listRecursive(sha) : r.git.treeEntries(sha);
  return {
    sha,
    url: `${api}/git/trees/${sha}`,
    tree: entries.map((e) => ({
      path: e.path,
      mode: e.mode,
      type: e.type,
      sha: e.sha,
      ...(e.type === "blob" ? { size: r.git.blobs.get(e.sha)?.length ?? 0, url: `${api}/git/blobs/${e.sha}` } : {}),
      ...(e.type === "tree" ? { url: `${api}/git/trees/${e.sha}` } : {}),
    })),
    truncated: false,
  };
}

export function gitRoutes(router: Router): void {
  router.on("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}", (ctx) => {
    const r = repoOf(ctx);
    const buf = r.git.blobs.get(ctx.params.file_sha);
    if (!buf) throw notFound();
    return {
      body: {
        sha: ctx.params.file_sha,
        node_id: ctx.st.nodeId("Blob", buf.length),
        size: buf.length,
        url: `${ctx.st.api}/repos/${r.fullName}/git/blobs/${ctx.params.file_sha}`,
        content: b64(buf),
        encoding: "base64",
      },
    };
  });

  router.on("POST", "/repos/{owner}/{repo}/git/blobs", (ctx) => {
    const r = repoOf(ctx);
    requireFields(ctx.body, "content");
    const enc = ctx.body.encoding ?? "utf-8";
    if (enc !== "utf-8" && enc !== "utf8" && enc !== "base64") throw unprocessable(`encoding must be utf-8 or base64`);
    const buf = Buffer.from(String(ctx.body.content), enc === "base64" ? "base64" : "utf8");
    const sha = r.git.putBlob(buf);
    return { status: 201, body: { url: `${ctx.st.api}/repos/${r.fullName}/git/blobs/${sha}`, sha } };
  });

  router.on("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}", (ctx) => {
    const r = repoOf(ctx);
    let sha = ctx.params.tree_sha;
    if (!r.git.trees.has(sha)) {
      const c = resolveCommit(r, sha);
      if (!c) throw notFound();
      sha = r.git.commits.get(c)!.tree;
    }
    const rec = ctx.query.get("recursive");
    return { body: treeJson(ctx, r, sha, !!rec && rec !== "0" && rec !== "false") };
  });

  router.on("POST", "/repos/{owner}/{repo}/git/trees", (ctx) => {
    const r = repoOf(ctx);
    requireFields(ctx.body, "tree");
    const base: string | undefined = ctx.body.base_tree ?? undefined;
    if (base && !r.git.trees.has(base)) throw unprocessable("Invalid tree info", [{ resource: "Tree", field: "base_tree", code: "invalid" }]);
    const flat: FlatTree = base ? r.git.flatten(base) : new Map();
    for (const e of ctx.body.tree as any[]) {
      const path = String(e.path ?? "").replace(/^\/+|\/+$/g, "");
      if (!path) throw unprocessable("Invalid tree info", [{ resource: "Tree", field: "path", code: "missing_field" }]);
      if (!MODES.has(e.mode)) throw unprocessable(`tree.mode contains a malformed mode: ${e.mode}`);
      if (e.sha === null) {
        if (!base) throw unprocessable("Invalid tree info: sha: null requires base_tree");
        flat.delete(path);
        for (const k of [...flat.keys()]) if (k.startsWith(path + "/")) flat.delete(k);
        continue;
      }
      for (const k of [...flat.keys()]) if (k.startsWith(path + "/")) flat.delete(k);
      if (e.mode === "040000") {
        if (!r.git.trees.has(e.sha)) throw unprocessable("Invalid tree info", [{ resource: "Tree", field: "sha", code: "invalid" }]);
        for (const [k, v] of r.git.flatten(e.sha)) flat.set(`${path}/${k}`, v);
        continue;
      }
      if (e.mode === "160000") {
        if (!/^[0-9a-f]{40}$/.test(e.sha ?? "")) throw unprocessable("Invalid tree info", [{ resource: "Tree", field: "sha", code: "invalid" }]);
        flat.set(path, { mode: "160000", type: "commit", sha: e.sha });
        continue;
      }
      let sha: string;
      if (typeof e.content === "string") sha = r.git.putBlob(e.content);
      else if (e.sha && r.git.blobs.has(e.sha)) sha = e.sha;
      else throw unprocessable("Invalid tree info", [{ resource: "Tree", field: "sha", code: "invalid", message: `tree.sha ${e.sha} is not a valid blob` }]);
      flat.set(path, { mode: e.mode as FileMode, type: "blob", sha });
    }
    const sha = r.git.build(flat);
    return { status: 201, body: treeJson(ctx, r, sha, false) };
  });

  router.on("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}", (ctx) => {
    const r = repoOf(ctx);
    const c = r.git.commits.get(ctx.params.commit_sha);
    if (!c) throw notFound();
    return { body: render.gitCommit(ctx.st, r, c) };
  });

  router.on("POST", "/repos/{owner}/{repo}/git/commits", (ctx) => {
    const r = repoOf(ctx);
    requireFields(ctx.body, "message", "tree");
    if (!r.git.trees.has(ctx.body.tree)) throw unprocessable("Tree SHA does not exist");
    const parents: string[] = ctx.body.parents ?? [];
    for (const p of parents) if (!r.git.commits.has(p)) throw unprocessable("Parent SHA does not exist or is not a commit object");
    const me = actorOf(ctx.st, ctx.token.kind, ctx.token.actor);
    const now = ctx.st.now();
    const ident = (x: any) => ({ name: x?.name ?? me.name, email: x?.email ?? me.email, date: x?.date ?? now });
    const author = ident(ctx.body.author);
    const base = { tree: ctx.body.tree, parents, author, message: String(ctx.body.message) };
    let c;
    if (typeof ctx.body.signature === "string" && ctx.body.signature !== "") {
      // A signature the caller made: stored as given, never verified as GitHub's.
      c = r.git.putCommit({ ...base, committer: ctx.body.committer ? ident(ctx.body.committer) : author, gpgsig: ctx.body.signature.replace(/\n?$/, "\n") });
    } else if (!ctx.body.author && !ctx.body.committer) {
      // GitHub's own commit for the token's identity (an App's bot, or a user): committed by GitHub, signed with web-flow's key.
      c = r.git.putCommit(webFlowCommit({ ...base, committer: { ...WEB_FLOW, date: now } }));
    } else {
      // Custom author or committer: GitHub does not sign it.
      c = r.git.putCommit({ ...base, committer: ctx.body.committer ? ident(ctx.body.committer) : author });
    }
    return { status: 201, body: render.gitCommit(ctx.st, r, c) };
  });

  router.on("GET", "/repos/{owner}/{repo}/git/ref/{ref}", (ctx) => {
    const r = repoOf(ctx);
    const full = `refs/${ctx.params.ref}`;
    const sha = r.refs.get(full);
    if (!sha) throw notFound();
    return { body: refJson(ctx, r, full, sha) };
  });

  router.on("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref}", (ctx) => {
    const r = repoOf(ctx);
    const prefix = `refs/${ctx.params.ref}`;
    const out = [...r.refs].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1));
    return { body: out.map(([k, v]) => refJson(ctx, r, k, v)) };
  });

  router.on("POST", "/repos/{owner}/{repo}/git/refs", (ctx) => {
    const r = repoOf(ctx);
    requireFields(ctx.body, "ref", "sha");
    const ref = String(ctx.body.ref);
    if (!/^refs\/.+\/.+/.test(ref)) throw unprocessable("Reference name must start with 'refs/' and have at least two slashes.");
    updateRef(ctx.st, r, ref, ctx.body.sha, { create: true, tokenKind: ctx.token.kind });
    return { status: 201, body: refJson(ctx, r, ref, ctx.body.sha) };
  });

  router.on("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", (ctx) => {
    const r = repoOf(ctx);
    requireFields(ctx.body, "sha");
    const full = `refs/${ctx.params.ref}`;
    if (!r.refs.has(full)) throw unprocessable("Reference does not exist");
    updateRef(ctx.st, r, full, ctx.body.sha, { force: ctx.body.force === true, tokenKind: ctx.token.kind });
    return { body: refJson(ctx, r, full, ctx.body.sha) };
  });

  router.on("DELETE", "/repos/{owner}/{repo}/git/refs/{ref}", (ctx) => {
    const r = repoOf(ctx);
    const full = `refs/${ctx.params.ref}`;
    if (!r.refs.has(full)) throw unprocessable("Reference does not exist");
    const branch = full.replace(/^refs\/heads\//, "");
    const prot = r.protected.get(branch);
    if (prot && ctx.token.kind === "installation" && !prot.allowApp) throw new HttpError(prot.status ?? 422, `Protected branch update failed for ${full}.`);
    r.refs.delete(full);
    return { status: 204 };
  });
}
