/**
 * The policy's JSON Schema describes every provider's settings (editors complete and explain
 * them), and says exactly what each provider's factory accepts: a provider added to the registry
 * without its settings in the schema, or a setting renamed in one place only, fails here.
 */
import { expect, test } from "@jest/globals";
import { readFileSync } from "node:fs";
import { roleSettingsKeys as githubRoleSettings } from "../../src/providers/github/index.js";
import { providerRegistry } from "../../src/providers/registry.js";

interface Branch {
  if: { properties: { provider: { const: string } } };
  then: {
    properties: {
      settings: { properties: Record<string, { description: string }> };
      roles?: { additionalProperties: { properties: { settings: { properties: Record<string, { description: string }> } } } };
    };
  };
}
const schema = JSON.parse(readFileSync(new URL("../../schemas/policy.schema.json", import.meta.url), "utf8")) as {
  properties: { resources: { additionalProperties: { allOf: Branch[] } } };
};
const branches = new Map(schema.properties.resources.additionalProperties.allOf.map((b) => [b.if.properties.provider.const, b.then.properties]));

test("every registered provider has its settings in the schema, each described, and no others", () => {
  expect([...branches.keys()].sort()).toEqual([...providerRegistry.keys()].sort());
  for (const [id, factory] of providerRegistry) {
    const described = branches.get(id)!.settings.properties;
    expect(Object.keys(described).sort()).toEqual([...factory.settingsKeys].sort());
    for (const [key, { description }] of Object.entries(described)) expect({ id, key, length: description.length > 20 }).toEqual({ id, key, length: true });
  }
});

test("role-level settings are described for the providers that take them", () => {
  const roleKeys = (id: string) => Object.keys(branches.get(id)?.roles?.additionalProperties.properties.settings.properties ?? {}).sort();
  expect(roleKeys("github")).toEqual([...githubRoleSettings].sort());
  expect(roleKeys("ldap")).toEqual(["member_attribute"]);
});
