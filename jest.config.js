import { availableParallelism } from "node:os";

/**
 * Two jest projects, with the same settings:
 * - `unit`: pure code and in-process fakes; `npm run test:unit` answers in seconds.
 * - `e2e`: tests that start the emulated GitHub, Probot, real servers (HTTP, PostgreSQL), child
 *   processes (git, the CLI, the app, the demo) or Chromium.
 * `npm test` runs both. A new end-to-end test is named `*.e2e.test.ts`; the files listed below
 * are end-to-end too but predate that suffix.
 */
const E2E_FILES = [
  "<rootDir>/test/app/npm-start.test.ts",
  "<rootDir>/test/audit/audit.test.ts",
  "<rootDir>/test/audit/emulated-web-flow.test.ts",
  "<rootDir>/test/audit/forged-records.test.ts",
  "<rootDir>/test/audit/github.test.ts",
  "<rootDir>/test/audit/html.test.ts",
  "<rootDir>/test/audit/progress.test.ts",
  "<rootDir>/test/audit/report.test.ts",
  "<rootDir>/test/audit/stories.test.ts",
  "<rootDir>/test/audit/trust.test.ts",
  "<rootDir>/test/cli/bin.test.ts",
  "<rootDir>/test/cli/git-config-attack.test.ts",
  "<rootDir>/test/cli/plan-bin.test.ts",
  "<rootDir>/test/cli/plan.test.ts",
  "<rootDir>/test/demo/demo.test.ts",
  "<rootDir>/test/handlers/nock.test.ts",
  "<rootDir>/test/handlers/pr-attacks.test.ts",
  "<rootDir>/test/handlers/pull-request-review.test.ts",
  "<rootDir>/test/handlers/pull-request.test.ts",
  "<rootDir>/test/handlers/webhook-budget.test.ts",
  "<rootDir>/test/harness/emulator.test.ts",
  "<rootDir>/test/harness/nock-coexist.test.ts",
  "<rootDir>/test/harness/openapi.test.ts",
  "<rootDir>/test/harness/probot-http.test.ts",
  "<rootDir>/test/lifecycle/crash.test.ts",
  "<rootDir>/test/lifecycle/replicas.test.ts",
  "<rootDir>/test/metrics/github-api.test.ts",
  "<rootDir>/test/metrics/metrics-endpoint.test.ts",
  "<rootDir>/test/metrics/reconcile-report.test.ts",
  "<rootDir>/test/plan/decide.test.ts",
  "<rootDir>/test/providers/github-hang.test.ts",
  "<rootDir>/test/providers/postgres-hang.test.ts",
  "<rootDir>/test/providers/postgres-principal.test.ts",
  "<rootDir>/test/providers/postgres.test.ts",
  "<rootDir>/test/replicas/coordination.test.ts",
];

/** @type {import('jest').Config} */
const shared = {
  rootDir: ".",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.test.json" }],
  },
};

/** @type {import('jest').Config} */
export default {
  // Most end-to-end time is spent waiting (on servers, child processes, the wall clock), so two
  // workers even on two cores: Jest's default (cores - 1) runs everything in one process here.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  testSequencer: "<rootDir>/jest.sequencer.js",
  // End-to-end tests run CLIs, servers and three app processes side by side on two cores: a test
  // waits for outcomes (no test asserts on time), so a loaded machine must not fail it at 5 s.
  testTimeout: 30_000,
  projects: [
    {
      ...shared,
      displayName: "unit",
      testMatch: ["**/*.test.ts"],
      testPathIgnorePatterns: ["/node_modules/", "\\.e2e\\.test\\.ts$", ...E2E_FILES],
    },
    {
      ...shared,
      displayName: "e2e",
      testMatch: ["**/*.e2e.test.ts", ...E2E_FILES],
    },
  ],
};
