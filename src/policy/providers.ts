import { providerRegistry } from "../providers/registry.js";

/** Provider id → the settings keys it understands, for policy validation. */
export function knownProviders(): ReadonlyMap<string, readonly string[]> {
  return new Map([...providerRegistry.values()].map((f) => [f.id, f.settingsKeys]));
}
