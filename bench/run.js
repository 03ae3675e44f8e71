#!/usr/bin/env node
/**
 * `npm run bench` (builds first). Prints and records in bench/results/latest.json:
 *  (a) how many grant files per second are validated: `checkGrantFile` on 10,000 generated files
 *      in memory (schema compiled once, one core), and `timebox validate`'s own code path
 *      (`runValidate`) on the same 10,000 files written to a temporary folder;
 *  (b) how many GitHub API calls one event costs, from bench/api-calls.bench.ts, which drives the
 *      real app in-process against the emulated GitHub under jest (the harness is TypeScript);
 *  (c) what a reconcile of 1,000 and 10,000 active grants costs (cold, unchanged, one change) and
 *      the revocation lag of 1,000 grants expiring within a minute, from bench/reconcile.bench.ts;
 *  (d) how long `timebox audit` takes over a generated history of 100,000 commits (bench/audit.js);
 *  (e) apply and revoke latency per provider (median, p99 over 200 grants), every provider against
 *      its local test server in one run, from bench/provider-latency.bench.ts (under jest, its own
 *      run: the GitHub provider's server is the emulated GitHub); a provider whose server is
 *      missing is shown as skipped, with the reason.
 * Figures only: nothing here passes or fails on time.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkGrantFile } from "../lib/grants/check.js";
import { checkPolicyFile } from "../lib/policy/check.js";
import { knownProviders } from "../lib/policy/providers.js";
import { runValidate } from "../lib/cli/validate.js";
import { benchAudit } from "./audit.js";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const FILES = 10_000;
const ROUNDS = 3;

const policyText = readFileSync(join(root, "test/fixtures/access-repo/.github/timebox.yml"), "utf8");
const policyVerdict = checkPolicyFile(".github/timebox.yml", policyText, { providers: knownProviders() });
if (!policyVerdict.valid) throw new Error("the fixture policy is invalid; cannot benchmark");
const policy = policyVerdict.policy;

/** 10,000 grant files: mostly valid, one in ten with a mistake (so diagnostics are built too). */
function generate(n) {
  const files = [];
  for (let i = 0; i < n; i++) {
    const requester = ["dev1", "dev2", "oncall1"][i % 3];
    const admin = i % 4 === 0;
    const emergency = admin && requester === "oncall1";
    const lines = [
      "# yaml-language-server: $schema=../schemas/grant.schema.json",
      `requester: ${requester}`,
      "resource: prod-db",
      `role: ${admin ? "admin" : "readonly"}`,
      `duration: ${i % 10 === 7 ? "9h" : admin ? "30m" : ["2h", "PT4H", "1h30m", "45m"][i % 4]}`,
      `reason: Investigate INC-${1000 + i} slow checkout queries`,
      `ticket: ${i % 10 === 3 ? "JIRA-1" : `INC-${1000 + i}`}`,
    ];
    if (emergency) lines.push("emergency: true");
    if (i % 10 === 5) lines.push("colour: blue");
    files.push({ path: `grants/${requester}-prod-db-${i}.yaml`, author: requester, text: `${lines.join("\n")}\n` });
  }
  return files;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function benchCheckGrantFile(files) {
  const buffers = files.map((f) => ({ ...f, bytes: Buffer.from(f.text) }));
  // Warm-up: compiles the schema once and lets the JIT settle.
  for (const f of buffers.slice(0, 500)) checkGrantFile(f.path, f.bytes, { policy, author: f.author });
  const rates = [];
  let valid = 0;
  for (let round = 0; round < ROUNDS; round++) {
    valid = 0;
    const start = process.hrtime.bigint();
    for (const f of buffers) if (checkGrantFile(f.path, f.bytes, { policy, author: f.author }).valid) valid++;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push(files.length / seconds);
  }
  return {
    files: files.length,
    rounds: ROUNDS,
    valid,
    invalid: files.length - valid,
    filesPerSecond: Math.round(median(rates)),
    perRound: rates.map(Math.round),
  };
}

async function benchRunValidate(files) {
  const dir = mkdtempSync(join(tmpdir(), "timebox-bench-"));
  try {
    mkdirSync(join(dir, ".github"));
    mkdirSync(join(dir, "grants"));
    writeFileSync(join(dir, ".github/timebox.yml"), policyText);
    for (const f of files) writeFileSync(join(dir, f.path), f.text);
    const paths = files.map((f) => f.path);
    await runValidate(paths.slice(0, 200), { policy: ".github/timebox.yml", format: "json" }, dir);
    const rates = [];
    let exitCode;
    for (let round = 0; round < ROUNDS; round++) {
      const start = process.hrtime.bigint();
      ({ exitCode } = await runValidate(paths, { policy: ".github/timebox.yml", format: "json" }, dir));
      rates.push(files.length / (Number(process.hrtime.bigint() - start) / 1e9));
    }
    return { files: files.length, rounds: ROUNDS, exitCode, filesPerSecond: Math.round(median(rates)), perRound: rates.map(Math.round) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs bench/*.bench.ts files under jest (the harness is TypeScript); `out` names the JSON they write. */
function jestBench(what, args, outVar) {
  const out = join(tmpdir(), `timebox-bench-${outVar.toLowerCase()}-${process.pid}.json`);
  const jest = join(root, "node_modules/jest/bin/jest.js");
  const run = spawnSync(process.execPath, [jest, "--config", "bench/jest.config.js", "--silent", "--runInBand", ...args], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      [outVar]: out,
      NODE_OPTIONS: "--experimental-vm-modules --disable-warning=ExperimentalWarning --max-old-space-size=8192",
    },
  });
  try {
    if (run.status !== 0 && !existsSync(out)) throw new Error(`the ${what} benchmark failed (jest exit ${run.status})`);
    return { ok: run.status === 0, figures: JSON.parse(readFileSync(out, "utf8")) };
  } finally {
    rmSync(out, { force: true });
  }
}

function benchApiCalls() {
  const { ok, figures } = jestBench("API-call", ["--testPathIgnorePatterns", "provider-latency"], "TIMEBOX_BENCH_OUT");
  if (!ok) throw new Error("the API-call benchmark failed");
  return figures;
}

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (typeof c === "number" ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

const files = generate(FILES);
console.log(`Timebox benchmark: node ${process.version}, ${cpus().length} core(s) (${cpus()[0]?.model ?? "unknown cpu"})\n`);

const check = benchCheckGrantFile(files);
const cli = await benchRunValidate(files);
console.log("(a) grant files validated per second (median of 3 rounds, one core)\n");
console.log(
  table(
    ["what", "files", "files/s", "rounds"],
    [
      ["checkGrantFile, in memory", check.files, check.filesPerSecond, check.perRound.join(" / ")],
      ["timebox validate (runValidate, files on disk)", cli.files, cli.filesPerSecond, cli.perRound.join(" / ")],
    ],
  ),
);
console.log(
  `\n    ${check.valid} valid and ${check.invalid} invalid files in the generated set (three in ten have one mistake each: duration over max_duration, ticket not matching ticket_pattern, unknown key)\n`,
);

console.log("(b) GitHub API calls per event (emulated GitHub, real app in-process)\n");
const api = benchApiCalls();
console.log(
  table(
    ["event", "grant files", "reviews", "API calls", "reads", "writes", "file-list pages", "blob reads", "membership reads"],
    api.map((r) => [
      r.event,
      r.grants,
      r.reviews,
      r.calls,
      r.reads,
      r.writes,
      r.byRoute["GET /repos/{owner}/{repo}/pulls/{pull_number}/files"] ?? 0,
      r.byRoute["GET /repos/{owner}/{repo}/git/blobs/{file_sha}"] ?? 0,
      r.byRoute["GET /orgs/{org}/teams/{team_slug}/memberships/{username}"] ?? 0,
    ]),
  ),
);

console.log("\n(c) what a reconcile costs, and revocation lag (bench/reconcile.bench.ts, in-memory provider)\n");
const reconcile = JSON.parse(readFileSync(join(root, "bench/results/reconcile.json"), "utf8"));
const phases = Object.entries(reconcile).filter(([k]) => k.startsWith("reconcile_"));
console.log(
  table(
    ["active grants", "run", "API calls", "wall ms", "CPU ms", "heap MB", "applied"],
    phases.flatMap(([k, v]) => Object.entries(v).map(([run, r]) => [Number(k.slice(10)), run, r.apiCalls, r.wallMs, r.cpuMs, r.heapMB, r.applied])),
  ),
);
for (const v of Object.entries(reconcile)
  .filter(([k]) => k.startsWith("cold_start_"))
  .map(([, v]) => v)) {
  console.log(
    `\n    cold start (a restart after the grants are applied) of ${v.grants} grants: REST ${v.rest} calls, GraphQL batches ${v.graphql} calls (${v.graphqlRequests} of them GraphQL); goal ≤ ${v.goal} (one per 25 grants) beyond the reconcile's constant part`,
  );
}
if (reconcile.revocationLag) {
  const lag = reconcile.revocationLag;
  console.log(
    `\n    revocation lag, ${lag.grants} grants expiring within one minute: injected clock p99 ${lag.injectedClockMs.p99} ms; real clock p50 ${lag.realClockMs.p50} ms, p99 ${lag.realClockMs.p99} ms, max ${lag.realClockMs.max} ms`,
  );
}

console.log("\n(d) timebox audit over a generated history (bench/audit.js: git fast-import, then the CLI as a process)\n");
const audit = await benchAudit();
console.log(
  table(
    ["commits", "first-parent", "grant rows", "audit s (median of 3)", "history read s", "rounds"],
    [[audit.commits, audit.firstParentCommits, audit.rows, audit.auditSeconds, audit.historyReadSeconds, audit.perRound.join(" / ")]],
  ),
);

console.log("\n(e) provider apply / revoke latency, ms (bench/provider-latency.bench.ts: each provider against its local server, one at a time)\n");
const providers = jestBench("provider-latency", ["bench/provider-latency.bench.ts"], "TIMEBOX_BENCH_PROVIDER_OUT");
const latency = providers.figures;
console.log(
  table(
    ["provider", "grants", "apply p50", "apply p99", "revoke p50", "revoke p99", "server"],
    Object.entries(latency).map(([name, r]) =>
      r.status === "measured"
        ? [name, r.grants, r.apply_ms.p50, r.apply_ms.p99, r.revoke_ms.p50, r.revoke_ms.p99, r.server]
        : [name, "", "", "", "", "", `${r.status}: ${r.reason}`],
    ),
  ),
);
console.log(
  "\n    apply = recordPriorAccess (when the provider has it) + grant + isGranted read-back; revoke = revoke + read-back; first connection not counted. GitHub without Octokit's write pacing (deployed: writes at least 1 s apart).",
);

const results = {
  at: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  validation: { checkGrantFile: check, runValidate: cli },
  apiCalls: api,
  reconcile,
  audit,
  provider_latency: latency,
};
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/latest.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log("\nwritten: bench/results/latest.json");
if (!providers.ok) {
  console.error("the provider-latency benchmark failed for a provider (see its row); figures were still written");
  process.exitCode = 1;
}
