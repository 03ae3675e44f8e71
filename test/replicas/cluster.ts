/**
 * Replicas of the built app (`probot run ./lib/index.js`, as `npm start`) against one emulated
 * GitHub and one PostgreSQL, with or without the Redis on this machine: what the replica tests and
 * `npm run bench` drive. Each cluster gets a Redis database of its own, emptied first.
 */
import { Redis } from "ioredis";
import { grantYaml } from "../support/access-repo.js";
import { startLiveApp, until, type LiveApp } from "../support/app-process.js";

/** The Redis the tests use (CI: the local server `.ci/run` starts). */
export const REDIS_BASE = process.env.TIMEBOX_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Why Redis cannot be used here, or undefined when it answers PING. */
export async function redisUnavailable(): Promise<string | undefined> {
  const r = new Redis(REDIS_BASE, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on("error", () => undefined);
  try {
    await r.connect();
    await r.ping();
    return undefined;
  } catch (error) {
    return `no Redis at ${REDIS_BASE} (${(error as Error).message}); start one (.ci/run does) or set TIMEBOX_TEST_REDIS_URL`;
  } finally {
    r.disconnect();
  }
}

export interface Cluster extends LiveApp {
  /** A client on the cluster's Redis database (undefined without Redis). */
  redis?: Redis;
  /** The app's key prefix in Redis. */
  prefix: string;
}

export interface ClusterOptions {
  replicas: number;
  /** A Redis database number for this cluster (emptied first); none: the replicas do not coordinate. */
  redisDb?: number;
  env?: Record<string, string>;
}

/** Starts `replicas` processes of the built app; with `redisDb`, they coordinate through Redis. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  let redis: Redis | undefined;
  const env: Record<string, string> = { ...options.env };
  if (options.redisDb !== undefined) {
    const url = `${REDIS_BASE.replace(/\/\d*$/, "")}/${options.redisDb}`;
    redis = new Redis(url);
    await redis.flushdb();
    env.REDIS_URL = url;
  }
  const live = await startLiveApp(`replicas-${options.replicas}`, env, options.replicas).catch((error: unknown) => {
    redis?.disconnect();
    throw error;
  });
  const stop = live.stop;
  return {
    ...live,
    redis,
    prefix: `timebox:${live.gh.env().APP_ID}`,
    stop: async () => {
      await stop();
      redis?.disconnect();
    },
  };
}

export interface MergedGrant {
  number: number;
  path: string;
  /** When the merge was delivered (the grant's clock starts at its merge). */
  mergedAt: number;
}

/**
 * Opens, approves and merges one PR per grant (webhooks spread over the replicas), and waits until
 * each is applied. `via` picks the replica for each grant's webhooks (default: round robin).
 */
export async function mergeGrants(c: Cluster, count: number, duration: string, via: (i: number) => number = (i) => i % c.apps.length): Promise<MergedGrant[]> {
  const { gh } = c;
  const prs = Array.from({ length: count }, (_, i) => {
    const path = `grants/dev1-burst-${i}.yaml`;
    return { i, path, pr: gh.openPullRequest({ author: "dev1", files: { [path]: grantYaml({ duration, reason: `Burst grant ${i}` }) } }) };
  });
  // The PRs side by side (each PR's own webhooks in order), so the grants expire close together.
  const each = (step: (p: (typeof prs)[number], url: string) => Promise<unknown>) => Promise.all(prs.map((p) => step(p, c.apps[via(p.i)].url)));
  await each((p, url) => gh.deliver(url, p.pr));
  await each((p, url) => gh.deliver(url, gh.submitReview(p.pr.number!, { reviewer: "alice", state: "APPROVED" })));
  await each((p) => until("approval", () => gh.checkRuns(p.pr.sha!, "timebox/approval").at(-1)?.conclusion === "success", 120_000));
  const merged: MergedGrant[] = [];
  await each(async (p, url) => {
    const mergedAt = Date.now();
    const events = gh.merge(p.pr.number!, { by: "alice" });
    merged.push({ number: p.pr.number!, path: p.path, mergedAt });
    await gh.deliver(url, events);
  });
  for (const m of merged) await until(`${m.path} applied`, () => marked(c, m.number, "applied").length > 0, 120_000);
  return merged.sort((x, y) => x.number - y.number);
}

/** Timebox's comments on PR `number` carrying its `kind` marker (applied, revoked). */
export function marked(c: Cluster, number: number, kind: string): Array<{ body: string }> {
  return c.gh.comments(number).filter((x: { body: string }) => x.body.includes(`<!-- timebox:${kind} `));
}

/** Timebox's commits on main that removed `path`. */
export function removals(c: Cluster, path: string) {
  return c.gh
    .repo()
    .log("main")
    .filter((x) => x.message.startsWith("Revoke") && x.message.includes(`\nTimebox-Grant: ${path}\n`));
}

/** Waits until every grant is revoked: access gone, its removal commit and its revoked comment there. */
export async function allRevoked(c: Cluster, grants: MergedGrant[], ms = 60_000): Promise<void> {
  await until(
    "every grant revoked",
    async () => grants.every((g) => removals(c, g.path).length > 0 && marked(c, g.number, "revoked").length > 0) && !(await c.hasAccess()),
    ms,
  );
}

/** The replica process holding the lease on the access repository, read from Redis. */
export async function leaseHolder(c: Cluster): Promise<number | undefined> {
  const token = await c.redis?.get(`${c.prefix}:lease:acme/${c.repoName}`);
  return token ? c.apps.findIndex((a) => token.split(":").at(-2) === String(a.pid)) : undefined;
}

/** Resolves at the next multiple of `periodMs` on the wall clock, plus `offsetMs` (windows aligned to cron ticks). */
export async function alignTo(periodMs: number, offsetMs: number): Promise<void> {
  const now = Date.now();
  const next = Math.ceil((now - offsetMs) / periodMs) * periodMs + offsetMs;
  await new Promise((r) => setTimeout(r, next - now));
}

/** GitHub API calls the app made during `window` (requests the emulator got, webhook-driven ones included). */
export async function callsDuring(c: Cluster, window: () => Promise<void>): Promise<number> {
  c.gh.resetRequests();
  await window();
  return c.gh.requests.length;
}
