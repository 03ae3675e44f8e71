// Errors from GitHub: the one way Timebox reads the HTTP status of a failed call.

/** The HTTP status of an error from GitHub (Octokit's RequestError), or undefined for any other error. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("status" in error)) return undefined;
  return typeof error.status === "number" ? error.status : undefined;
}

/** Whether `error` is a GitHub answer with one of these HTTP statuses. */
export function hasStatus(error: unknown, ...statuses: number[]): boolean {
  const status = httpStatus(error);
  return status !== undefined && statuses.includes(status);
}

/** The error's message, or "" when it has none. */
export function errorMessage(error: unknown): string {
  return typeof error === "object" && error !== null && "message" in error && typeof error.message === "string" ? error.message : "";
}
