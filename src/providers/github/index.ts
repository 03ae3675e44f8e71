/**
 * GitHub provider: `@org/team-slug` targets give temporary team membership, `owner/repo` targets
 * a temporary repository permission. Acts with its own token or GitHub App installation, named by
 * the resource's settings — never with the Timebox app's installation token.
 *
 * Resource settings (each names an environment variable):
 *   token_env            a personal access token or fine-grained token, or
 *   app_id_env + private_key_env + installation_id_env   a separate GitHub App installation;
 *   base_url_env         optional API base URL (GitHub Enterprise Server, or a local emulator).
 * Role settings: `permission` (pull|triage|push|maintain|admin, default push) for repositories,
 * `team_role` (member|maintainer, default member) for teams.
 * Timeouts are not settings: each request is bounded by the provider pool's call deadline
 * (TIMEBOX_PROVIDER_TIMEOUT_MS), at most 15 s — see docs/providers/github.md.
 */
import type { ProviderFactory, ProviderOptions } from "../types.js";
import { ROLE_SETTINGS_KEYS } from "./access.js";
import { requestTimeoutWithin, SETTINGS_KEYS, type GithubClientOptions } from "./client.js";
import { GithubProvider } from "./provider.js";

export { GithubProvider } from "./provider.js";
export type { GithubClientOptions } from "./client.js";
export { parseTarget } from "./target.js";

export const settingsKeys: readonly string[] = SETTINGS_KEYS;

/**
 * Builds the provider; tests pass `{ retry: false, throttle: false }`. The request timeout
 * follows the call deadline (`options.timeoutMs`) unless `clientOptions` sets one.
 */
export function createGithubProvider(options: ProviderOptions, clientOptions: GithubClientOptions = {}): GithubProvider {
  return new GithubProvider(options, { timeoutMs: requestTimeoutWithin(options.timeoutMs), ...clientOptions });
}

export const githubProviderFactory: ProviderFactory = {
  id: "github",
  settingsKeys,
  create: (options) => createGithubProvider(options),
};

export const roleSettingsKeys: readonly string[] = ROLE_SETTINGS_KEYS;
