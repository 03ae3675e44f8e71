export { GitHubEmulator } from "./emulator.js";
export { type ActionResult } from "./repo-handle.js";
export type { RequestInfo, CheckRun } from "./state.js";
