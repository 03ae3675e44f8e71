// ESLint (flat config) with typescript-eslint's type-aware rules: `npm run lint` runs it with knip.
// Type information comes from the project service: src/ from tsconfig.json, test/ from
// test/tsconfig.json (= tsconfig.test.json), demo/ from demo/tsconfig.json (= tsconfig.demo.json),
// bench/*.ts (in no tsconfig) from tsconfig.test.json as the default project.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["lib/", "build/", "coverage/", "node_modules/", "bench/results/", "scratch/", "test/scratch/", "test/fixtures/"],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["bench/*.ts"], defaultProject: "tsconfig.test.json" },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      // Tuned, with the reason:
      // - An `async` function without `await` is how this code implements a Promise-returning
      //   interface (providers, loaders); dropping `async` would turn a throw into a synchronous one.
      "@typescript-eslint/require-await": "off",
      // The code writes `!` after an index access on purpose (`rows[0]!`: ready for
      // noUncheckedIndexedAccess); without that compiler option this rule calls each one
      // unnecessary (66 findings, mostly in tests), so it stays off until the option is on.
      "@typescript-eslint/no-unnecessary-type-assertion": "off",
      // `ReviewState | string` documents the values GitHub sends while accepting any other one.
      "@typescript-eslint/no-redundant-type-constituents": "off",
      // A leading underscore marks a parameter or binding that is unused on purpose.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      // Passing a caught error (`unknown`) on to a rejection is propagation, not a new error.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true, allowThrowingAny: true }],
    },
  },
  {
    // Tests handle JSON (webhook payloads, the emulated GitHub's request bodies, mocks) as `any` by
    // design; typing every one would be a large rewrite for no safety in production code.
    // `expect(obj.method)` and jest mocks trip unbound-method.
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/unbound-method": "off",
    },
  },
  {
    // The demo's clock shim wraps Date and the timer functions in Proxies: `any` is its subject.
    files: ["demo/time-travel-preload.ts"],
    rules: { "@typescript-eslint/no-unsafe-return": "off", "@typescript-eslint/no-unsafe-call": "off" },
  },
  {
    // Plain JavaScript (bench scripts, config files): no type information, Node's globals.
    files: ["**/*.js", "**/*.mjs"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: {
        console: "readonly",
        process: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        performance: "readonly",
        Buffer: "readonly",
      },
    },
  },
);
