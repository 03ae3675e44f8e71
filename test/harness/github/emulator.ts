/** GitHubEmulator: a stateful in-memory GitHub served over real HTTP on 127.0.0.1, plus a test driver. */
import { randomBytes } from "node:crypto";
import { FakeClock, type Clock } from "../clock.js";
import { deliverOne, type DeliveryResult, type WebhookReceiver } from "./deliver.js";
import { ObjectStore } from "./git.js";
import { RepoHandle, type ActionResult, type Files } from "./repo-handle.js";
import { buildRouter } from "./routes/index.js";
import { EmulatorServer } from "./server.js";
import { State, type ForeignApp, type RepoRole, type RequestHook, type RequestRecord, type TokenKind, type User, type UserType } from "./state.js";
import type { WebhookEvent } from "./payloads.js";

export interface EmulatorOptions {
  clock?: Clock;
  appId?: number;
  appSlug?: string;
  appName?: string;
  appOwner?: string;
  webhookSecret?: string;
  /** Token the app's GitHub *provider* uses (a PAT-like token with org-admin reach). */
  providerToken?: string;
  providerLogin?: string;
}

export interface RequestFilter {
  method?: string;
  route?: string | RegExp;
  tokenKind?: TokenKind;
  status?: number;
  /** Only requests no route matched. */
  unknown?: boolean;
}

/** Which requests an injected failure applies to, and how it fails. */
export interface FailureSpec {
  method?: string;
  /** The OpenAPI template (`/repos/{owner}/{repo}/issues/{issue_number}/comments`) or a RegExp over it. */
  route?: string | RegExp;
  tokenKind?: TokenKind;
  /** Status to answer with (default 500). */
  status?: number;
  message?: string;
  /** How many matching requests fail (default 1); `Infinity` until removed. */
  times?: number;
}

export interface InjectedFailure {
  /** Matching requests failed so far. */
  readonly hits: number;
  /** Stop failing (a no-op once exhausted). */
  remove(): void;
}

export interface TeamMemberSeed {
  login: string;
  role?: "member" | "maintainer";
  state?: "active" | "pending";
}

export class GitHubEmulator {
  readonly clock: Clock;
  readonly state: State;
  readonly providerToken: string;
  readonly webhookSecret: string;
  readonly router = buildRouter();
  readonly deliveries: DeliveryResult[] = [];
  baseUrl = "";
  host = "";
  private server?: EmulatorServer;
  private defaultRepo?: string;

  constructor(opts: EmulatorOptions = {}) {
    this.clock = opts.clock ?? new FakeClock();
    this.webhookSecret = opts.webhookSecret ?? "emulator-webhook-secret";
    this.state = new State(this.clock, {
      id: opts.appId ?? 4242,
      slug: opts.appSlug ?? "timebox",
      name: opts.appName ?? "Timebox",
      owner: opts.appOwner ?? "timebox-dev",
      webhookSecret: this.webhookSecret,
    });
    this.state.user(this.state.app.owner, "Organization");
    this.state.user(this.state.botLogin, "Bot");
    this.providerToken = opts.providerToken ?? `ghp_provider_${randomBytes(8).toString("hex")}`;
    const providerLogin = opts.providerLogin ?? "timebox-provider";
    this.state.user(providerLogin);
    this.state.tokens.set(this.providerToken, { kind: "provider", actor: providerLogin });
  }

  // ---- lifecycle ---------------------------------------------------------------------

  async start(port = 0): Promise<{ baseUrl: string; host: string; port: number }> {
    this.server = new EmulatorServer(this.state, this.router);
    const info = await this.server.listen(port);
    this.baseUrl = info.baseUrl;
    this.host = info.host;
    this.state.origin = `http://${info.host}`;
    return info;
  }

  /**
   * Keeps idle connections open `ms` (the bench: an app in the same process can run synchronously
   * longer than Node's 5 s keep-alive over 10,000 grants, and its next request would meet a socket
   * the server is closing; GitHub keeps idle connections far longer).
   */
  keepIdleConnections(ms: number): void {
    this.server?.keepIdleConnections(ms);
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  /** Environment for running the app as a process against this emulator. */
  env(): Record<string, string> {
    return { GHE_HOST: this.host, GHE_PROTOCOL: "http", APP_ID: String(this.state.app.id), WEBHOOK_SECRET: this.webhookSecret };
  }

  // ---- request log -------------------------------------------------------------------

  get requests(): RequestRecord[] {
    return this.state.requests;
  }

  requestsMatching(filter: RequestFilter | ((r: RequestRecord) => boolean) = {}): RequestRecord[] {
    const f =
      typeof filter === "function"
        ? filter
        : (r: RequestRecord) =>
            (!filter.method || r.method === filter.method.toUpperCase()) &&
            (!filter.route || (typeof filter.route === "string" ? r.route === filter.route : filter.route.test(r.route ?? r.path))) &&
            (!filter.tokenKind || r.tokenKind === filter.tokenKind) &&
            (filter.status === undefined || r.status === filter.status) &&
            (!filter.unknown || r.route === null);
    return this.state.requests.filter(f);
  }

  callCount(filter: RequestFilter | ((r: RequestRecord) => boolean) = {}): number {
    return this.requestsMatching(filter).length;
  }

  /** Requests to endpoints the emulator does not know (GitHub would 404 or the app uses an unmodelled API). */
  unknownRequests(): RequestRecord[] {
    return this.requestsMatching({ unknown: true });
  }

  resetRequests(): void {
    this.state.requests.length = 0;
  }

  // ---- fault injection ---------------------------------------------------------------

  /**
   * Runs `hook` on every authenticated request before its route handler; a hook that returns
   * `{ status, message }` answers the request with that error instead (GitHub's error shape, logged
   * in `requests`), nothing in the state changes. Returns a function that removes the hook.
   */
  onRequest(hook: RequestHook): () => void {
    this.state.requestHooks.push(hook);
    return () => {
      const i = this.state.requestHooks.indexOf(hook);
      if (i >= 0) this.state.requestHooks.splice(i, 1);
    };
  }

  /**
   * Makes the next matching request(s) fail like GitHub would (default: one request, 500), e.g.
   * `gh.failNext({ method: "POST", route: "/repos/{owner}/{repo}/issues/{issue_number}/comments" })`.
   */
  failNext(spec: FailureSpec = {}): InjectedFailure {
    let hits = 0;
    const times = spec.times ?? 1;
    const remove = this.onRequest((r) => {
      if (spec.method && r.method !== spec.method.toUpperCase()) return undefined;
      if (spec.route && !(typeof spec.route === "string" ? r.route === spec.route : spec.route.test(r.route))) return undefined;
      if (spec.tokenKind && r.tokenKind !== spec.tokenKind) return undefined;
      hits++;
      if (hits >= times) remove();
      return { status: spec.status ?? 500, message: spec.message };
    });
    return {
      get hits() {
        return hits;
      },
      remove,
    };
  }

  // ---- seeding -----------------------------------------------------------------------

  createUser(login: string, opts: { type?: UserType; orgs?: string[]; name?: string; email?: string } = {}): User {
    const u = this.state.user(login, opts.type);
    if (opts.name) u.name = opts.name;
    if (opts.email) u.email = opts.email;
    for (const o of opts.orgs ?? []) u.orgs.add(o.toLowerCase());
    return u;
  }

  createBot(login: string): User {
    return this.state.user(login.endsWith("[bot]") ? login : `${login}[bot]`, "Bot");
  }

  createOrg(login: string, opts: { members?: string[] } = {}): User {
    const o = this.state.user(login, "Organization");
    for (const m of opts.members ?? []) this.state.user(m).orgs.add(login.toLowerCase());
    return o;
  }

  /** A team; active members also become members of the org. */
  createTeam(opts: { org: string; slug: string; name?: string; members?: (string | TeamMemberSeed)[] }) {
    if (!this.state.findUser(opts.org)) this.createOrg(opts.org);
    const id = this.state.id();
    const team = { id, node_id: this.state.nodeId("Team", id), org: opts.org, slug: opts.slug, name: opts.name ?? opts.slug, members: new Map() };
    this.state.teams.set(`${opts.org}/${opts.slug}`.toLowerCase(), team);
    for (const m of opts.members ?? []) this.setTeamMembership(opts.org, opts.slug, typeof m === "string" ? { login: m } : m);
    return team;
  }

  setTeamMembership(org: string, slug: string, m: TeamMemberSeed): void {
    const t = this.state.team(org, slug);
    if (!t) throw new Error(`no team ${org}/${slug}`);
    const u = this.state.user(m.login);
    if ((m.state ?? "active") === "active") u.orgs.add(org.toLowerCase());
    t.members.set(u.login.toLowerCase(), { role: m.role ?? "member", state: m.state ?? "active" });
  }

  removeTeamMember(org: string, slug: string, login: string): void {
    this.state.team(org, slug)?.members.delete(login.toLowerCase());
  }

  teamMembers(org: string, slug: string): TeamMemberSeed[] {
    const t = this.state.team(org, slug);
    if (!t) throw new Error(`no team ${org}/${slug}`);
    return [...t.members].map(([k, v]) => ({ login: this.state.findUser(k)!.login, role: v.role, state: v.state }));
  }

  /** Create a repository with an initial commit holding `files`; the first repo becomes the default for driver calls. */
  createRepo(opts: {
    owner: string;
    name: string;
    defaultBranch?: string;
    files?: Files;
    installationId?: number | null;
    private?: boolean;
    ownerType?: "User" | "Organization";
    collaborators?: Record<string, RepoRole>;
  }): RepoHandle {
    const st = this.state;
    const owner = st.findUser(opts.owner) ?? st.user(opts.owner, opts.ownerType ?? "Organization");
    const installationId = opts.installationId === undefined ? 1 : opts.installationId;
    if (installationId !== null && !st.installations.has(installationId))
      st.installations.set(installationId, { id: installationId, account: owner.login, createdAt: st.now() });
    const id = st.id();
    const fullName = `${owner.login}/${opts.name}`;
    const repo = {
      id,
      node_id: st.nodeId("Repository", id),
      owner: owner.login,
      name: opts.name,
      fullName,
      private: opts.private ?? true,
      defaultBranch: opts.defaultBranch ?? "main",
      installationId,
      git: new ObjectStore(),
      refs: new Map<string, string>(),
      protected: new Map(),
      pulls: new Map(),
      issues: new Map(),
      nextNumber: 1,
      comments: [],
      reviews: [],
      labels: new Map(),
      checkRuns: [],
      collaborators: new Map<string, RepoRole>(),
      invitations: new Map(),
      createdAt: st.now(),
      pushedAt: st.now(),
    };
    st.repos.set(fullName.toLowerCase(), repo);
    for (const [login, role] of Object.entries(opts.collaborators ?? {})) {
      st.user(login);
      repo.collaborators.set(login.toLowerCase(), role);
    }
    const sha = st.commitFiles(repo, { parents: [], files: opts.files ?? { "README.md": `# ${opts.name}\n` }, message: "Initial commit", author: owner });
    repo.refs.set(`refs/heads/${repo.defaultBranch}`, sha);
    this.defaultRepo ??= fullName;
    return new RepoHandle(st, repo);
  }

  /** A repository handle; without a name, the first repository created. */
  repo(fullName?: string): RepoHandle {
    const name = fullName ?? this.defaultRepo;
    if (!name) throw new Error("no repository created yet");
    const [o, n] = name.split("/");
    const r = this.state.repo(o, n);
    if (!r) throw new Error(`no repository ${name}`);
    return new RepoHandle(this.state, r);
  }

  /** Mint an installation token directly (for tests that call the API without Probot). */
  installationToken(installationId = 1): string {
    const token = `ghs_test_${randomBytes(12).toString("hex")}`;
    this.state.tokens.set(token, { kind: "installation", installationId, actor: this.state.botLogin });
    return token;
  }

  // ---- person actions on the default repository ---------------------------------------

  pushCommit(opts: Parameters<RepoHandle["pushCommit"]>[0]): ActionResult {
    return this.repo().pushCommit(opts);
  }
  openPullRequest(opts: Parameters<RepoHandle["openPullRequest"]>[0]): ActionResult {
    return this.repo().openPullRequest(opts);
  }
  pushToPullRequest(n: number, opts: Parameters<RepoHandle["pushToPullRequest"]>[1]): ActionResult {
    return this.repo().pushToPullRequest(n, opts);
  }
  submitReview(n: number, opts: Parameters<RepoHandle["submitReview"]>[1]): ActionResult {
    return this.repo().submitReview(n, opts);
  }
  dismissReview(n: number, reviewId: number, opts: { by: string; message?: string }): ActionResult {
    return this.repo().dismissReview(n, reviewId, opts);
  }
  editReview(n: number, reviewId: number, opts: { body: string; by?: string }): ActionResult {
    return this.repo().editReview(n, reviewId, opts);
  }
  merge(n: number, opts: Parameters<RepoHandle["merge"]>[1]): ActionResult {
    return this.repo().merge(n, opts);
  }
  close(n: number, opts?: { by?: string }): ActionResult {
    return this.repo().close(n, opts);
  }
  reopen(n: number, opts?: { by?: string }): ActionResult {
    return this.repo().reopen(n, opts);
  }
  editPullRequest(n: number, opts: Parameters<RepoHandle["editPullRequest"]>[1]): ActionResult {
    return this.repo().editPullRequest(n, opts);
  }
  comment(n: number, opts: { author: string; body: string; app?: ForeignApp }): ActionResult {
    return this.repo().comment(n, opts);
  }
  protectBranch(branch: string, opts?: { allowApp?: boolean; status?: 403 | 422 }): void {
    this.repo().protectBranch(branch, opts);
  }

  // ---- reads on the default repository ------------------------------------------------

  fileAt(ref: string, path: string): string | undefined {
    return this.repo().fileAt(ref, path);
  }
  branchHead(branch?: string): string | undefined {
    return this.repo().branchHead(branch);
  }
  commit(sha: string) {
    return this.repo().commit(sha);
  }
  comments(n: number) {
    return this.repo().comments(n);
  }
  checkRuns(ref: string, name?: string) {
    return this.repo().checkRuns(ref, name);
  }
  issues(filter?: { labels?: string[]; state?: "open" | "closed" | "all" }) {
    return this.repo().issues(filter);
  }
  labels(n: number): string[] {
    return this.repo().labels(n);
  }
  addLabel(n: number, label: string): void {
    this.repo().addLabel(n, label);
  }
  removeLabel(n: number, label: string): void {
    this.repo().removeLabel(n, label);
  }
  closeIssue(n: number): void {
    this.repo().closeIssue(n);
  }
  pull(n: number) {
    return this.repo().pull(n);
  }
  collaboratorPermission(login: string, repo?: string) {
    return this.repo(repo).collaboratorPermission(login);
  }

  // ---- webhook delivery --------------------------------------------------------------

  /**
   * Deliver events (one, or an action's list) in order to a Probot instance (`probot.receive`) or an
   * app URL (POST <url>/api/github/webhooks, signed with X-Hub-Signature-256).
   */
  async deliver(
    target: WebhookReceiver | string,
    events: WebhookEvent | WebhookEvent[],
    opts: { secret?: string; only?: string[] } = {},
  ): Promise<DeliveryResult[]> {
    const list = (Array.isArray(events) ? events : [events]).filter((e) => !opts.only || opts.only.includes(e.event));
    const out: DeliveryResult[] = [];
    for (const ev of list) {
      const res = await deliverOne(target, ev, opts.secret ?? this.webhookSecret);
      this.deliveries.push(res);
      out.push(res);
    }
    return out;
  }
}
