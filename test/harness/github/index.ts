export { GitHubEmulator, type EmulatorOptions, type FailureSpec, type InjectedFailure, type RequestFilter, type TeamMemberSeed } from "./emulator.js";
export { RepoHandle, type ActionResult, type Files, type FileSpec } from "./repo-handle.js";
export { sign, type DeliveryResult, type WebhookReceiver } from "./deliver.js";
export type { WebhookEvent } from "./payloads.js";
export type { RequestHook, RequestInfo, InjectedReply, RequestRecord, TokenKind, CheckRun, PullRequest, Review, IssueComment, Issue, RepoRole } from "./state.js";
export type { CommitObject } from "./git.js";
