import type { AppSelf } from "../github/self.js";
import type { LifecycleRuntime } from "../lifecycle/runtime.js";
import type { KeyedQueue } from "../util/keyed-queue.js";
import type { NotifyPort } from "../notify/notifier.js";

/** What the handlers share, built once by the composition root. */
export interface AppDeps {
  /** Provider id → settings keys, for validating the policy. PR handlers never get providers themselves. */
  providers: ReadonlyMap<string, readonly string[]>;
  queue: KeyedQueue;
  /** How long a webhook waits for the reconcile it triggers (the rest runs on after the answer). */
  webhookBudgetMs: number;
  /** TIMEBOX_MAX_GRANT_FILES: the most grant files one PR may change before all are refused unread (default 100). */
  maxGrantFiles?: number;
  /** This app's id and bot login, read once: its own records are recognised by who wrote them. */
  self: () => Promise<AppSelf>;
  /** Whether an installation is down to the share of its GitHub budget kept for revocation: PR reviews then wait. */
  budgetLow: (installationId?: number) => boolean;
  /** The app's clock: the moment a PR is judged (an on-call requester must be on call then). The system clock when absent. */
  now?: () => Date;
  /** Slack and webhook notifications (the default branch's policy decides where): never throws, never waits. */
  notifier?: NotifyPort;
  /** Post-merge effects go through the lifecycle only. */
  lifecycle: Pick<LifecycleRuntime, "reconcileRepo" | "reconcileOnEvent" | "notePush" | "revokeByCommand" | "recordOutcome">;
}
