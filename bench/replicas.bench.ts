/**
 * GitHub API calls of one replica against three, in the same run: the built app (`probot run
 * ./lib/index.js`) as separate processes against one emulated GitHub and PostgreSQL, over an idle
 * period (backstop ticks only) and over a burst of ten grants expiring together
 * (test/replicas/scenario.ts). Three ways: one replica (no Redis), three without Redis (every
 * replica does all the work, as before REDIS_URL), three sharing Redis. Writes its figures to
 * $TIMEBOX_BENCH_REPLICAS_OUT (run by bench/run.js); without it this file does nothing, so the
 * API-call run of bench/run.js does not start it. Figures only: nothing here passes or fails on time.
 */
import { writeFileSync } from "node:fs";
import { redisUnavailable } from "../test/replicas/cluster.js";
import { measureReplicas, TICK_MS, type ReplicaFigures } from "../test/replicas/scenario.js";

const out = process.env.TIMEBOX_BENCH_REPLICAS_OUT;
const bench = out ? test : test.skip;

/** Stable names: one_replica, three_replicas_no_redis, three_replicas_redis. */
type Figures = Record<string, (ReplicaFigures & { status: "measured" }) | { status: "skipped"; reason: string }>;

bench(
  "API calls: one replica vs three",
  async () => {
    const figures: Figures = {};
    const runs: Array<[string, number, number | undefined]> = [
      ["one_replica", 1, undefined],
      ["three_replicas_no_redis", 3, undefined],
      ["three_replicas_redis", 3, 14],
    ];
    const noRedis = await redisUnavailable();
    for (const [name, replicas, redisDb] of runs) {
      if (redisDb !== undefined && noRedis) {
        figures[name] = { status: "skipped", reason: noRedis };
        continue;
      }
      const { figures: f, cluster } = await measureReplicas(replicas, redisDb);
      await cluster.stop();
      figures[name] = { status: "measured", ...f };
    }
    writeFileSync(out!, `${JSON.stringify({ tick_ms: TICK_MS, runs: figures }, null, 2)}\n`);
  },
  900_000,
);
