import { Command, CommanderError, Option } from "commander";
import { POLICY_PATH } from "../policy/types.js";
import { runValidate } from "./validate.js";
import { runAudit, type AuditCliOptions } from "./audit.js";
import { runPlan, type PlanCliOptions } from "./plan.js";
import { runInit, type InitCliOptions } from "./init.js";

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  /** The environment (`timebox audit --github` reads its token there); process.env when absent. */
  env?: NodeJS.ProcessEnv;
  /** stderr is a terminal: progress bars may be drawn there. */
  stderrIsTTY?: boolean;
}

/** Runs `timebox …` and returns the exit code: 0 valid, 1 invalid, 2 usage error or unreadable input. */
export async function runCli(args: string[], io: CliIO): Promise<number> {
  let exitCode = 0;
  const program = new Command("timebox")
    .description("Temporary production access through pull requests")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  /** A command's result, as the process shows it. */
  const report = (result: { exitCode: number; stdout: string; stderr?: string }) => {
    io.stdout(result.stdout);
    if (result.stderr) io.stderr(result.stderr);
    exitCode = result.exitCode;
  };

  program
    .command("validate")
    .description("check grant files and the policy offline, like the timebox/validate check")
    .option("--policy <path>", "the policy file", POLICY_PATH)
    .option("--author <login>", "the pull request author to compare requesters with")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .argument("<files...>", "grant files to check")
    .action(async (files: string[], options: { policy: string; author?: string; format: "text" | "json" }) => {
      report(await runValidate(files, options, io.cwd));
    });

  program
    .command("audit")
    .description("who had what access, when, approved by whom, and the patterns in it — from a clone's history, offline")
    .option("--repo <path>", "the access repository (a clone)", ".")
    .option("--since <date>", "only access windows that end after this time (jsonl: events at or after it)")
    .option("--until <date>", "only access windows that start before this time, a bare date including that day (jsonl: events before it)")
    .option("--who <login>", "only grants requested by this login")
    .option("--resource <name>", "only grants of this resource")
    .option("--at <time>", "only grants that gave access at this moment")
    .addOption(
      new Option("--format <format>", "output format (jsonl: one event per state change, for a SIEM)")
        .choices(["table", "csv", "json", "html", "jsonl"])
        .default("table"),
    )
    .option("--out <file>", "write the report to a file instead of stdout")
    .option(
      "--github <owner/repo>",
      "add approval times, approvers and outcomes from the API, and check Timebox's commits there too (token in TIMEBOX_GITHUB_TOKEN or GITHUB_TOKEN)",
    )
    .option(
      "--trusted-key <file>",
      "an armored OpenPGP public key whose signatures mark Timebox's commits, instead of GitHub's web-flow key (repeatable; e.g. GitHub Enterprise Server's)",
      (file: string, all: string[] = []) => [...all, file],
    )
    .option("--app-login <login>", "the app's bot login: Timebox's commits are authored by it (default timebox[bot])")
    .option("--repeat-threshold <n>", "finding: more than N grants of the same access to one person… (default 3)")
    .option("--repeat-window <duration>", "…within this window (default 30d)")
    .option("--fast-approval <duration>", "finding: an approval sooner than this after the PR opened (default 1m; needs --github)")
    .option("--dominant-share <percent>", "finding: one approver on more than this share of a resource's approvals… (default 50)")
    .option("--dominant-min <n>", "…for resources with at least N approved grants (default 5)")
    .option("--working-hours <range>", "finding: access outside these hours, e.g. 09:00-18:00, or off (default 09:00-18:00)")
    .option("--working-days <days>", "working days, e.g. Mon-Fri or Mon,Tue,Thu (default Mon-Fri)")
    .option("--timezone <zone>", "the IANA time zone of the working hours (default UTC)")
    .option("--lag-threshold <duration>", "finding: revoked more than this after expiry (default 5m)")
    .action(async (options: AuditCliOptions) => {
      report(await runAudit(options, io.cwd, { env: io.env ?? process.env, progress: io.stderrIsTTY ? io.stderr : undefined }));
    });

  program
    .command("plan")
    .description("what is active, what expires when, what is pending, and what a reconcile would do (dry run), offline")
    .option("--repo <path>", "the access repository (a clone or checkout)", ".")
    .option("--at <time>", "plan as of this time instead of now (ISO 8601)")
    .addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table"))
    .action(async (options: PlanCliOptions) => {
      report(await runPlan(options, io.cwd));
    });

  program
    .command("init")
    .description("scaffold an access repository: the policy, the request issue form, the grants README, the workflow, and the branch protection")
    .argument("[dir]", "the repository's folder", ".")
    .option(
      "--providers <list>",
      "example resources for these providers, comma-separated (postgres, mysql, github, kubernetes, aws-identity-center, gcp-iam, ldap, webhook)",
      "postgres,github",
    )
    .option("--org <org>", "the GitHub organisation whose teams approve and request", "your-org")
    .option("--action <ref>", "the Timebox action the workflow runs (owner/repo@ref)")
    .option("--force", "overwrite files that exist")
    .option("--apply", "set the branch protection through the API (token in TIMEBOX_GITHUB_TOKEN or GITHUB_TOKEN) instead of printing it")
    .option("--repo <owner/repo>", "the repository --apply protects")
    .option("--branch <name>", "the branch --apply protects (default: the repository's default branch)")
    .option("--app-id <id>", "the Timebox app's id: only its checks satisfy the protection (default: APP_ID)")
    .action(async (dir: string, options: InitCliOptions) => {
      report(await runInit(dir, options, io.cwd, io.env ?? process.env));
    });

  try {
    await program.parseAsync(args, { from: "user" });
    return exitCode;
  } catch (error) {
    // --help and --version exit 0; anything else commander refuses is a usage error.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    io.stderr(`timebox: ${(error as Error).message}\n`);
    return 2;
  }
}
