#!/usr/bin/env node
/**
 * `npm run bench` (builds first). Prints and records in bench/results/latest.json:
 *  (a) how many grant files per second are validated: `checkGrantFile` on 10,000 generated files
 *      in memory (schema compiled once, one core), next to its peer measured in the same run on
 *      the same bytes — raw `js-yaml` `load` + ajv with the same grant schema, no positions, no
 *      policy — and `timebox validate`'s own code path (`runValidate`) on the same 10,000 files
 *      written to a temporary folder; each with its ratio and the goal it is read against
 *      (in memory ≥ 0.5 × the peer; on files ≥ 0.7 × in memory). `node bench/run.js --only validate`
 *      (after `npm run build`) runs section (a) alone and writes its figures to
 *      bench/results/validation.json instead of latest.json;
 *  (b) how many GitHub API calls one event costs, from bench/api-calls.bench.ts, which drives the
 *      real app in-process against the emulated GitHub under jest (the harness is TypeScript);
 *  (c) what a reconcile of 1,000 and 10,000 active grants costs (cold, unchanged, one change) and
 *      the revocation lag of 1,000 grants expiring within a minute, from bench/reconcile.bench.ts;
 *  (d) how long `timebox audit` takes over a generated history of 100,000 commits (bench/audit.js);
 *  (e) apply and revoke latency per provider (median, p99 over 200 grants), every provider against
 *      its local test server in one run, from bench/provider-latency.bench.ts (under jest, its own
 *      run: the GitHub provider's server is the emulated GitHub); a provider whose server is
 *      missing is shown as skipped, with the reason.
 *  (f) GitHub API calls of one replica against three (without and with Redis), idle and over a burst
 *      of expiries, from bench/replicas.bench.ts (the built app as separate processes).
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
import { load as loadYaml } from "js-yaml";
import { Ajv2020 } from "ajv/dist/2020.js";
import { benchAudit } from "./audit.js";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const FILES = 10_000;
const ROUNDS = 3;
/** Section (a) in memory: rounds alternate between the peer and checkGrantFile. */
const IN_MEMORY_ROUNDS = 5;
/** Goals of section (a) (issue 14): read against, never enforced. */
const GOALS = { checkGrantFileVsPeer: 0.5, runValidateVsCheckGrantFile: 0.7 };
const ONLY = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
if (ONLY !== undefined && ONLY !== "validate") throw new Error(`--only ${ONLY}: only "validate" (section a) can run alone`);

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

/**
 * The peer: what a plain `js-yaml` + ajv validator does with the same bytes — decode, `load`, validate
 * against the same grant schema compiled with the app's ajv options — and nothing else (no positions,
 * no safety rules, no policy). Returns a function counting the files it finds valid.
 */
function jsYamlAjvPeer() {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
  const validate = ajv.compile(JSON.parse(readFileSync(join(root, "schemas/grant.schema.json"), "utf8")));
  return (bytes) => {
    try {
      return validate(loadYaml(bytes.toString("utf8"))) ? 1 : 0;
    } catch {
      return 0;
    }
  };
}

/**
 * `checkGrantFile` in memory and its peer, in alternating rounds on the same buffers so both see the
 * same machine load; the median round of each is the figure.
 */
function benchInMemory(files) {
  const buffers = files.map((f) => ({ ...f, bytes: Buffer.from(f.text) }));
  const peer = jsYamlAjvPeer();
  const ours = (f) => (checkGrantFile(f.path, f.bytes, { policy, author: f.author }).valid ? 1 : 0);
  const round = (one) => {
    let valid = 0;
    const start = process.hrtime.bigint();
    for (const f of buffers) valid += one(f);
    return { valid, rate: files.length / (Number(process.hrtime.bigint() - start) / 1e9) };
  };
  // Warm-up: compiles the schemas once and lets the JIT settle.
  for (const f of buffers.slice(0, 2000)) {
    peer(f.bytes);
    ours(f);
  }
  const rates = { peer: [], check: [] };
  let valid = { peer: 0, check: 0 };
  for (let r = 0; r < IN_MEMORY_ROUNDS; r++) {
    const p = round((f) => peer(f.bytes));
    const c = round(ours);
    rates.peer.push(p.rate);
    rates.check.push(c.rate);
    valid = { peer: p.valid, check: c.valid };
  }
  const figure = (what) => ({
    files: files.length,
    rounds: IN_MEMORY_ROUNDS,
    valid: valid[what],
    invalid: files.length - valid[what],
    filesPerSecond: Math.round(median(rates[what])),
    perRound: rates[what].map(Math.round),
  });
  return { check: figure("check"), peer: figure("peer") };
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
    const floor = [];
    let exitCode;
    for (let round = 0; round < ROUNDS; round++) {
      // The floor: only reading the same files (readFileSync, as runValidate does), nothing checked.
      let start = process.hrtime.bigint();
      for (const p of paths) readFileSync(join(dir, p));
      floor.push(files.length / (Number(process.hrtime.bigint() - start) / 1e9));
      start = process.hrtime.bigint();
      ({ exitCode } = await runValidate(paths, { policy: ".github/timebox.yml", format: "json" }, dir));
      rates.push(files.length / (Number(process.hrtime.bigint() - start) / 1e9));
    }
    return {
      files: files.length,
      rounds: ROUNDS,
      exitCode,
      filesPerSecond: Math.round(median(rates)),
      perRound: rates.map(Math.round),
      readOnlyFilesPerSecond: Math.round(median(floor)),
    };
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

const { check, peer } = benchInMemory(files);
const cli = await benchRunValidate(files);
const ratio = (a, b) => Math.round((a / b) * 100) / 100;
// The fastest `timebox validate` could be: reading each file (the floor) plus checking it in memory.
const readPlusCheck = Math.round(1 / (1 / cli.readOnlyFilesPerSecond + 1 / check.filesPerSecond));
const validationRatios = {
  checkGrantFileVsPeer: ratio(check.filesPerSecond, peer.filesPerSecond),
  runValidateVsCheckGrantFile: ratio(cli.filesPerSecond, check.filesPerSecond),
  runValidateVsReadPlusCheck: ratio(cli.filesPerSecond, readPlusCheck),
};
console.log("(a) grant files validated per second (median round, one core; peer and in-memory rounds alternate)\n");
console.log(
  table(
    ["what", "files", "files/s", "against", "ratio", "goal", "rounds"],
    [
      ["peer: raw js-yaml load + ajv, in memory", peer.files, peer.filesPerSecond, "", "", "", peer.perRound.join(" / ")],
      [
        "checkGrantFile, in memory",
        check.files,
        check.filesPerSecond,
        "peer",
        validationRatios.checkGrantFileVsPeer,
        `≥ ${GOALS.checkGrantFileVsPeer}`,
        check.perRound.join(" / "),
      ],
      [
        "timebox validate (runValidate, files on disk)",
        cli.files,
        cli.filesPerSecond,
        "in memory",
        validationRatios.runValidateVsCheckGrantFile,
        `≥ ${GOALS.runValidateVsCheckGrantFile}`,
        cli.perRound.join(" / "),
      ],
      ["floor: reading the same files only (readFileSync)", cli.files, cli.readOnlyFilesPerSecond, "", "", "", ""],
      [
        "timebox validate against read + check in memory",
        cli.files,
        cli.filesPerSecond,
        `${readPlusCheck}/s`,
        validationRatios.runValidateVsReadPlusCheck,
        "",
        "",
      ],
    ],
  ),
);
console.log(
  `\n    ${check.valid} valid and ${check.invalid} invalid files in the generated set (three in ten have one mistake each: duration over max_duration, ticket not matching ticket_pattern, unknown key); the peer, which knows no policy, finds ${peer.valid} valid\n`,
);
const validation = {
  checkGrantFile: check,
  runValidate: cli,
  jsYamlAjvPeer: peer,
  readPlusCheckFilesPerSecond: readPlusCheck,
  ratios: validationRatios,
  goals: GOALS,
};
if (ONLY === "validate") {
  mkdirSync(join(root, "bench/results"), { recursive: true });
  const figures = { at: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, validation };
  writeFileSync(join(root, "bench/results/validation.json"), `${JSON.stringify(figures, null, 2)}\n`);
  console.log("written: bench/results/validation.json (--only validate)");
  process.exit(0);
}

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
    `\n    cold start (a restart after the grants are applied) of ${v.grants} grants, ${v.layout ?? "all in one PR"}: REST ${v.rest} calls, GraphQL batches ${v.graphql} calls (${v.graphqlRequests} of them GraphQL); goal ≤ ${v.goal} (one per 25 grants) beyond the reconcile's constant part`,
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

console.log("\n(f) GitHub API calls, one replica vs three (bench/replicas.bench.ts: built app processes, emulated GitHub, Redis)\n");
const replicaRun = jestBench("replicas", ["bench/replicas.bench.ts"], "TIMEBOX_BENCH_REPLICAS_OUT");
const replicas = replicaRun.figures;
const oneReplica = replicas.runs.one_replica;
console.log(
  table(
    ["run", "idle calls", "vs one", "burst calls", "vs one", "double comments", "double removals"],
    Object.entries(replicas.runs).map(([name, r]) =>
      r.status === "measured"
        ? [
            name,
            r.idleCalls,
            (r.idleCalls / oneReplica.idleCalls).toFixed(2),
            r.burstCalls,
            (r.burstCalls / oneReplica.burstCalls).toFixed(2),
            r.duplicateComments,
            r.duplicateRemovals,
          ]
        : [name, "", "", "", "", "", `skipped: ${r.reason}`],
    ),
  ),
);
console.log(
  `\n    idle: ${oneReplica.idleMs / 1000} s of backstop ticks every ${replicas.tick_ms / 1000} s; burst: ${oneReplica.burstMs / 1000} s in which ${oneReplica.grants} grants expire together.`,
);

const results = {
  at: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  validation,
  apiCalls: api,
  reconcile,
  audit,
  provider_latency: latency,
  replicas,
};
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/latest.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log("\nwritten: bench/results/latest.json");
if (!providers.ok) {
  console.error("the provider-latency benchmark failed for a provider (see its row); figures were still written");
  process.exitCode = 1;
}
