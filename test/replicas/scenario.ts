/**
 * The measurement shared by the replica test and `npm run bench`: a cluster merges a burst of
 * grants that expire together, then its GitHub API calls are counted over the burst of expiries
 * and afterwards over an idle period (ticks only). Windows are whole numbers of backstop ticks, aligned to the
 * cron schedule, so one replica and three see the same number of ticks.
 */
import { allRevoked, alignTo, callsDuring, marked, mergeGrants, removals, startCluster, type Cluster, type MergedGrant } from "./cluster.js";

/** The backstop tick in these runs (every 2 s, so a short run holds many ticks). */
export const TICK_MS = 2_000;
const IDLE_MS = 5 * TICK_MS;
const BURST_MS = 40 * TICK_MS;
/** Every grant's life: long enough to apply the whole burst before the first expires. */
const GRANT_MS = 60_000;

export interface ReplicaFigures {
  replicas: number;
  redis: boolean;
  grants: number;
  /** API calls over the idle period (IDLE_MS of backstop ticks, nothing due). */
  idleCalls: number;
  idleMs: number;
  /** API calls over the burst window (all grants expire inside it; ticks included). */
  burstCalls: number;
  burstMs: number;
  /** Grants that got more than one revoked comment / removal commit. */
  duplicateComments: number;
  duplicateRemovals: number;
  /** Times a replica lost the lead (leadership moving to a cold replica costs re-reads). */
  leadLost: number;
}

export interface Measured {
  figures: ReplicaFigures;
  cluster: Cluster;
  grants: MergedGrant[];
}

/** Runs the scenario on a fresh cluster; the caller stops `cluster`. */
export async function measureReplicas(replicas: number, redisDb?: number, count = 10): Promise<Measured> {
  const cluster = await startCluster({
    replicas,
    redisDb,
    env: { TIMEBOX_RECONCILE_CRON: `*/${TICK_MS / 1000} * * * * *`, TIMEBOX_LEASE_TTL_MS: "10000" },
  });
  try {
    const grants = await mergeGrants(cluster, count, `${GRANT_MS / 1000}s`);
    await alignTo(TICK_MS, TICK_MS / 2);
    const expiries = grants.map((g) => g.mergedAt + GRANT_MS);
    if (Math.min(...expiries) < Date.now() + TICK_MS || Math.max(...expiries) > Date.now() + BURST_MS - 10_000) {
      throw new Error("applying the burst took too long to measure its expiries; the machine is overloaded");
    }
    const burstCalls = await callsDuring(cluster, () => sleep(BURST_MS));
    await allRevoked(cluster, grants);
    // Idle afterwards: nothing due, the history holds the revoked grants.
    await alignTo(TICK_MS, TICK_MS / 2);
    const idleCalls = await callsDuring(cluster, () => sleep(IDLE_MS));
    return {
      cluster,
      grants,
      figures: {
        replicas,
        redis: redisDb !== undefined,
        grants: count,
        idleCalls,
        idleMs: IDLE_MS,
        burstCalls,
        burstMs: BURST_MS,
        duplicateComments: grants.filter((g) => marked(cluster, g.number, "revoked").length > 1).length,
        duplicateRemovals: grants.filter((g) => removals(cluster, g.path).length > 1).length,
        leadLost: cluster.output().split("lost the lead").length - 1,
      },
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
