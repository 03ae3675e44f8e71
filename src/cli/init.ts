import { access, mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { POLICY_PATH } from "../policy/types.js";
import { applyProtection, protectionBody } from "./init/protection.js";
import { DEFAULT_PROVIDERS, grantsReadme, INIT_PROVIDERS, issueForm, policyTemplate, workflow, type InitProvider } from "./init/templates.js";

export interface InitCliOptions {
  providers?: string;
  org?: string;
  action?: string;
  force?: boolean;
  apply?: boolean;
  repo?: string;
  branch?: string;
  appId?: string;
}

export interface InitResult {
  exitCode: 0 | 1 | 2;
  stdout: string;
  stderr?: string;
}

const ORG = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const REPO = /^([A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})\/([A-Za-z0-9._-]{1,100})$/;
const ACTION = /^[A-Za-z0-9][A-Za-z0-9._/-]*@[A-Za-z0-9._/-]+$/;
const DEFAULT_ACTION = "acme/timebox@v1";

/**
 * `timebox init [dir]`: writes an access repository's starting files — the policy, the request
 * issue form, the grants folder's README and the workflow running Timebox's action — and prints
 * (or, with `--apply`, sets) the branch protection. Never overwrites a file without `--force`.
 */
export async function runInit(dir: string, options: InitCliOptions, cwd: string, env: NodeJS.ProcessEnv, fetchImpl?: typeof fetch): Promise<InitResult> {
  const usage = (message: string): InitResult => ({ exitCode: 2, stdout: "", stderr: `timebox init: ${message}\n` });
  const providers = (options.providers ?? DEFAULT_PROVIDERS.join(","))
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const unknown = providers.filter((p) => !(INIT_PROVIDERS as readonly string[]).includes(p));
  if (unknown.length || providers.length === 0) return usage(`--providers takes a comma-separated list of ${INIT_PROVIDERS.join(", ")}`);
  const org = options.org ?? "your-org";
  if (!ORG.test(org)) return usage("--org must be a GitHub organisation login");
  const action = options.action ?? DEFAULT_ACTION;
  if (!ACTION.test(action)) return usage("--action must be owner/repo@ref");
  const appIdText = options.appId ?? env.APP_ID?.trim();
  const appId = appIdText ? Number(appIdText) : undefined;
  if (appId !== undefined && !(Number.isInteger(appId) && appId > 0)) return usage("--app-id must be the Timebox app's numeric id");
  const repoMatch = options.repo ? REPO.exec(options.repo) : undefined;
  if (options.repo && !repoMatch) return usage("--repo must be owner/repo");
  const token = env.TIMEBOX_GITHUB_TOKEN?.trim() || env.GITHUB_TOKEN?.trim();
  if (options.apply) {
    if (!repoMatch) return usage("--apply needs --repo owner/repo");
    if (!token) return usage("--apply needs a token with administration rights on the repository in TIMEBOX_GITHUB_TOKEN or GITHUB_TOKEN");
    if (appId === undefined) return usage("--apply needs --app-id (or APP_ID): without it any app's check named timebox/approval would satisfy the protection");
  }

  const o = { org, providers: [...new Set(providers)] as InitProvider[], action };
  const files: Array<[string, string]> = [
    [POLICY_PATH, policyTemplate(o)],
    [".github/ISSUE_TEMPLATE/timebox-request.yml", issueForm(o)],
    [".github/workflows/timebox.yml", workflow(o)],
    ["grants/README.md", grantsReadme(o)],
  ];
  const root = resolve(cwd, dir);
  if (!options.force) {
    const existing: string[] = [];
    for (const [path] of files) if (await exists(join(root, path))) existing.push(path);
    if (existing.length)
      return { exitCode: 1, stdout: "", stderr: `timebox init: ${existing.join(", ")} already exist in ${root}; nothing written (--force overwrites)\n` };
  }
  for (const [path, text] of files) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }

  const body = protectionBody(appId);
  const out = [`Wrote ${files.length} files in ${root}:`, ...files.map(([path]) => `  ${path}`), ""];
  out.push(
    "Next: edit the policy (resources, targets, teams), commit, and install the Timebox app on the repository",
    "(subscribed to pull_request, pull_request_review, push, issue_comment, issues and check_run).",
    "",
  );
  if (options.apply && repoMatch) {
    try {
      const branch = await applyProtection(
        { owner: repoMatch[1], repo: repoMatch[2], branch: options.branch, token: token!, baseUrl: apiBase(env) },
        body,
        fetchImpl,
      );
      out.push(`Branch protection set on ${repoMatch[1]}/${repoMatch[2]}@${branch}: timebox/validate and timebox/approval from app ${appId} are required.`);
    } catch (error) {
      return { exitCode: 1, stdout: `${out.join("\n")}\n`, stderr: `timebox init: branch protection not set: ${(error as Error).message}\n` };
    }
  } else {
    out.push(
      `Protect the default branch (PUT /repos/{owner}/{repo}/branches/{branch}/protection, or run again with --apply --repo owner/repo --app-id <id>):`,
      JSON.stringify(body, null, 2),
    );
    if (appId === undefined) out.push("Add \"app_id\": <the Timebox app's id> to each check (--app-id): otherwise any app's check of that name satisfies it.");
  }
  out.push(
    "",
    "Timebox commits expired grants' removals to the default branch itself: let the app bypass these rules (a ruleset's bypass list),",
    'or it proposes each removal in a pull request instead (docs/deploy.md, "Letting Timebox\'s own commits through").',
  );
  return { exitCode: 0, stdout: `${out.join("\n")}\n` };
}

const apiBase = (env: NodeJS.ProcessEnv): string => env.GITHUB_API_URL?.trim() || "https://api.github.com";

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
