/**
 * The API-call part of `npm run bench`: drives the real app in-process against the emulated
 * GitHub (test/harness/github/, TypeScript), so it runs under jest like the tests do.
 * Not part of `npm test` (the main config's roots are test/ only).
 * @type {import('jest').Config}
 */
export default {
  rootDir: "..",
  testEnvironment: "node",
  roots: ["<rootDir>/bench"],
  testMatch: ["**/*.bench.ts"],
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.test.json" }],
  },
};
