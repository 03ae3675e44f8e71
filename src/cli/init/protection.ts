/**
 * The branch protection an access repository needs: merging requires `timebox/validate` and
 * `timebox/approval` from the Timebox app, a reviewed pull request, no force pushes. The body of
 * `PUT /repos/{owner}/{repo}/branches/{branch}/protection` (classic branch protection).
 */

const REQUIRED_CHECKS = ["timebox/validate", "timebox/approval"] as const;

export interface ProtectionBody {
  required_status_checks: { strict: boolean; checks: Array<{ context: string; app_id?: number }> };
  enforce_admins: boolean;
  required_pull_request_reviews: {
    dismiss_stale_reviews: boolean;
    require_code_owner_reviews: boolean;
    required_approving_review_count: number;
    require_last_push_approval: boolean;
  };
  restrictions: null;
  allow_force_pushes: boolean;
  allow_deletions: boolean;
}

/** With `appId`, only the Timebox app's checks satisfy the requirement; without it, any source would. */
export function protectionBody(appId: number | undefined): ProtectionBody {
  return {
    required_status_checks: { strict: false, checks: REQUIRED_CHECKS.map((context) => ({ context, ...(appId !== undefined ? { app_id: appId } : {}) })) },
    enforce_admins: true,
    required_pull_request_reviews: {
      dismiss_stale_reviews: true,
      require_code_owner_reviews: false,
      required_approving_review_count: 1,
      require_last_push_approval: true,
    },
    restrictions: null,
    allow_force_pushes: false,
    allow_deletions: false,
  };
}

export interface ApplyTarget {
  owner: string;
  repo: string;
  /** Undefined: the repository's default branch. */
  branch?: string;
  token: string;
  /** The REST API base, e.g. https://api.github.com. */
  baseUrl: string;
}

/** Sets the protection on GitHub; the branch it was set on. Errors say what GitHub answered, never the token. */
export async function applyProtection(target: ApplyTarget, body: ProtectionBody, fetchImpl: typeof fetch = fetch): Promise<string> {
  const base = target.baseUrl.replace(/\/+$/, "");
  const repoUrl = `${base}/repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(target.repo)}`;
  const headers = {
    accept: "application/vnd.github+json",
    authorization: `Bearer ${target.token}`,
    "x-github-api-version": "2022-11-28",
    "user-agent": "timebox-init",
  };
  let branch = target.branch;
  if (!branch) {
    const res = await fetchImpl(repoUrl, { headers });
    if (!res.ok) throw new Error(`GitHub answered ${res.status} to GET /repos/${target.owner}/${target.repo}${await reason(res)}`);
    branch = ((await res.json()) as { default_branch?: string }).default_branch;
    if (!branch) throw new Error(`GitHub did not say the default branch of ${target.owner}/${target.repo}`);
  }
  const res = await fetchImpl(`${repoUrl}/branches/${encodeURIComponent(branch)}/protection`, {
    method: "PUT",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`GitHub answered ${res.status} to PUT /repos/${target.owner}/${target.repo}/branches/${branch}/protection${await reason(res)}`);
  return branch;
}

/** GitHub's `message`, clipped, when the body has one. */
async function reason(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    return typeof message === "string" ? `: ${message.replace(/\s+/g, " ").slice(0, 200)}` : "";
  } catch {
    return "";
  }
}
