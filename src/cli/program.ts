import { Command, CommanderError, Option } from "commander";
import { POLICY_PATH } from "../policy/types.js";
import { runValidate } from "./validate.js";
import { runAudit, type AuditCliOptions } from "./audit.js";

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
}

/** Runs `timebox …` and returns the exit code: 0 valid, 1 invalid, 2 usage error or unreadable input. */
export async function runCli(args: string[], io: CliIO): Promise<number> {
  let exitCode = 0;
  const program = new Command("timebox")
    .description("Temporary production access through pull requests")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  program
    .command("validate")
    .description("check grant files and the policy offline, like the timebox/validate check")
    .option("--policy <path>", "the policy file", POLICY_PATH)
    .option("--author <login>", "the pull request author to compare requesters with")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .argument("<files...>", "grant files to check")
    .action(async (files: string[], options: { policy: string; author?: string; format: "text" | "json" }) => {
      const result = await runValidate(files, options, io.cwd);
      io.stdout(result.stdout);
      exitCode = result.exitCode;
    });

  program
    .command("audit")
    .description("who had what access, when, approved by whom — from a clone's history, offline")
    .option("--repo <path>", "the access repository (a clone)", ".")
    .option("--since <date>", "only access windows that end after this time")
    .option("--until <date>", "only access windows that start before this time (a bare date includes that day)")
    .option("--who <login>", "only grants requested by this login")
    .option("--resource <name>", "only grants of this resource")
    .option("--at <time>", "only grants that gave access at this moment")
    .addOption(new Option("--format <format>", "output format").choices(["table", "csv", "json"]).default("table"))
    .option("--out <file>", "write the report to a file instead of stdout")
    .action(async (options: AuditCliOptions) => {
      const result = await runAudit(options, io.cwd);
      io.stdout(result.stdout);
      if (result.stderr) io.stderr(result.stderr);
      exitCode = result.exitCode;
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
