import type { RecordKey } from "./seal.js";

/**
 * Who Timebox is on GitHub: its app id and its bot's login, read once at start-up. Timebox's own
 * records (comments carrying markers, check runs) are recognised by who wrote them, never by their
 * shape: anyone who can run a workflow can make `github-actions[bot]` write the same text.
 */
export interface AppSelf {
  appId: number;
  /** `<slug>[bot]`: logins with `[bot]` belong to GitHub Apps and cannot be registered by people. */
  botLogin: string;
  /**
   * Seals the markers of this app's comments (`github/seal.ts`): anyone with write access can edit
   * this app's comments, so a marker is read back only with a valid seal, never by its author alone.
   */
  recordKey: RecordKey;
}

interface Authored {
  user?: { login?: string; type?: string } | null;
  performed_via_github_app?: { id?: number } | null;
}

/** Whether this app wrote a comment: its app id, or its bot login when GitHub omits the app. */
export function writtenBySelf(self: AppSelf, c: Authored): boolean {
  if (c.performed_via_github_app?.id !== undefined) return c.performed_via_github_app.id === self.appId;
  return c.user?.type === "Bot" && c.user.login?.toLowerCase() === self.botLogin.toLowerCase();
}

/**
 * Whether this app created a check run (`app`, set by GitHub): its id, or — for a reader that knows
 * the app only by its bot login, as `timebox audit` does — its slug, the `<slug>` of `<slug>[bot]`
 * (GitHub gives each app its own slug; nobody else's runs carry it).
 */
export function createdBySelf(self: AppSelf | Pick<AppSelf, "botLogin">, run: { app?: { id?: number; slug?: string } | null }): boolean {
  if ("appId" in self) return run.app?.id === self.appId;
  const slug = self.botLogin.replace(/\[bot\]$/i, "").toLowerCase();
  return !!run.app?.slug && run.app.slug.toLowerCase() === slug;
}
