import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { getProviderFactory, providerIds, providerRegistry } from "../../src/providers/registry.js";

const providersDir = fileURLToPath(new URL("../../src/providers/", import.meta.url));

describe("provider registry", () => {
  test("lists the known providers, sorted", () => {
    expect(providerIds()).toEqual(["aws-identity-center", "gcp-iam", "github", "kubernetes", "ldap", "mysql", "postgres", "webhook"]);
  });

  test("each entry is keyed by its factory's id", () => {
    for (const [id, factory] of providerRegistry) {
      expect(factory.id).toBe(id);
      expect(getProviderFactory(id)).toBe(factory);
      expect(typeof factory.create).toBe("function");
    }
  });

  test("an unknown id names the valid ones", () => {
    expect(() => getProviderFactory("oracle")).toThrow(
      "unknown provider `oracle`; must be one of: aws-identity-center, gcp-iam, github, kubernetes, ldap, mysql, postgres, webhook",
    );
  });

  test("agrees with the folders under src/providers/ (one folder per provider)", () => {
    const folders = readdirSync(providersDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(folders).toEqual(providerIds());
  });
});
