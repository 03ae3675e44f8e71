import { Counter, Gauge, type Registry } from "prom-client";
import type { CoordinationHealth } from "../coordination/redis.js";

/**
 * Replica coordination through Redis (REDIS_URL): whether Redis is reachable, and each step that
 * failed and was done by the replica alone instead. Registered on first use, so without REDIS_URL
 * neither series exists (an absent gauge, not a 0 that would read as "Redis down").
 */
export class CoordinationMetrics implements CoordinationHealth {
  private series?: { gauge: Gauge; errors: Counter<"op"> };

  constructor(private readonly registry: Registry) {}

  up(ok: boolean): void {
    this.registered().gauge.set(ok ? 1 : 0);
  }

  error(op: string): void {
    this.registered().errors.inc({ op });
  }

  private registered(): { gauge: Gauge; errors: Counter<"op"> } {
    this.series ??= {
      gauge: new Gauge({
        name: "timebox_coordination_up",
        help: "1 while this replica reaches the Redis it coordinates through (REDIS_URL), 0 while it works alone because Redis is unreachable.",
        registers: [this.registry],
      }),
      errors: new Counter({
        name: "timebox_coordination_errors_total",
        help: "Coordination steps that failed on Redis and were done by this replica alone instead, by step (lease, tick, timer, mark).",
        labelNames: ["op"],
        registers: [this.registry],
      }),
    };
    return this.series;
  }
}
