import { generateKeyPairSync } from "node:crypto";
import { Probot, ProbotOctokit } from "probot";
import type { ApplicationFunction } from "probot";

/** One RSA key for every test app (generating one per test is slow). */
export const privateKey = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
  publicKeyEncoding: { type: "pkcs1", format: "pem" },
}).privateKey;

/** A Probot instance for tests: no retries or throttling, so every API call is visible and immediate. */
export function testProbot(app: ApplicationFunction, options: { baseUrl?: string; appId?: number; secret?: string } = {}): Probot {
  const probot = new Probot({
    appId: options.appId ?? 123,
    privateKey,
    secret: options.secret ?? "test-secret",
    baseUrl: options.baseUrl,
    logLevel: (process.env.TIMEBOX_TEST_LOG_LEVEL as "fatal" | undefined) ?? "fatal",
    // The function form runs last, so Probot's own throttle defaults cannot switch throttling back on
    // (the object form is merged shallowly and loses `enabled: false`): writes are not spaced in tests.
    Octokit: ProbotOctokit.defaults((options: Record<string, any>) => ({
      ...options,
      retry: { enabled: false },
      throttle: { ...options.throttle, enabled: false },
    })),
  });
  void probot.load(app);
  return probot;
}
