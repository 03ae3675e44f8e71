/**
 * The shared provider contract, run against the webhook provider talking over HTTP on 127.0.0.1
 * to the example receiver of docs/providers/webhook.md (its in-memory system stands for the
 * target: `hasAccess` and `grantOutsideTimebox` read and change it directly).
 */
import { randomBytes } from "node:crypto";
import { createWebhookProvider, type WebhookProvider } from "../../src/providers/webhook/index.js";
import { describeProviderContract, type ContractFixture } from "./contract.js";
import { startReceiver, type TestReceiver } from "./webhook-receiver.js";

const SECRET = `contract-${randomBytes(24).toString("hex")}`;
const FAST = { attempts: 2, backoffMs: 10, maxBackoffMs: 20 };
const settings = { url_env: "TB_HOOK_URL", secret_env: "TB_HOOK_SECRET" };
const build = (url: string, secret: string): WebhookProvider =>
  createWebhookProvider({ resource: "contract", settings, env: { TB_HOOK_URL: url, TB_HOOK_SECRET: secret } }, FAST);

describeProviderContract("webhook (example receiver over HTTP)", async (): Promise<ContractFixture> => {
  const receiver: TestReceiver = await startReceiver(SECRET);
  let n = 0;
  return {
    provider: build(receiver.url, SECRET),
    resource: "contract",
    makePrincipal: async () => {
      const p = `person${++n}@acme.example`;
      receiver.system.people.add(p);
      return p;
    },
    makeTarget: async () => {
      const t = `group-${++n}`;
      receiver.system.members.set(t, new Set());
      return t;
    },
    missingTarget: () => "no-such-group",
    missingPrincipal: () => "nobody@acme.example",
    grantOutsideTimebox: async (p, t) => receiver.system.add(p, t),
    hasAccess: async (p, t) => receiver.system.has(p, t),
    withBadCredentials: async () => {
      // A wrong secret, and a URL whose path holds a token: neither may appear in any error.
      const wrong = `wrong-${randomBytes(24).toString("hex")}`;
      const url = `${receiver.url}/tok-${randomBytes(8).toString("hex")}`;
      return { provider: build(url, wrong), secrets: [wrong, url, SECRET] };
    },
    teardown: async () => receiver.close(),
  };
});
