import type { GitHubEmulator } from "../harness/github/index.js";
import { POLICY, startAccessRepo, type AccessRepo } from "./access-repo.js";

/**
 * The fixture policy plus a `github` resource `name` that acts through the emulator's provider
 * token (see {@link startGithubAccess}), with `roles` (YAML, indented under `roles:`).
 */
export function policyWithGithubResource(name: string, roles: string): string {
  return `${POLICY.trimEnd()}
  ${name}:
    provider: github
    settings: { token_env: GH_PROVIDER_TOKEN, base_url_env: GH_PROVIDER_URL }
    roles:
${roles}`;
}

/**
 * The access repository with `policy`, whose `github` resources act through the emulator's
 * provider token (settings `token_env: GH_PROVIDER_TOKEN, base_url_env: GH_PROVIDER_URL`). That
 * token is minted by the emulator, so a first instance starts it; `setup` then adds teams and
 * repositories, and the instance under test starts with the provider's environment.
 */
export async function startGithubAccess(policy: string, setup: (gh: GitHubEmulator) => void): Promise<AccessRepo> {
  const seed = await startAccessRepo({ policy });
  const { gh } = seed;
  setup(gh);
  const env = await startAccessRepo({ gh, clock: seed.clock, policy, env: { GH_PROVIDER_TOKEN: gh.providerToken, GH_PROVIDER_URL: gh.baseUrl } });
  return {
    ...env,
    stop: async () => {
      await env.stop();
      await seed.stop();
    },
  };
}
