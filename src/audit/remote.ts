import { git } from "../git/repository.js";

/** Which GitHub repository a clone is, for the events' `source` and links. */
export interface RepositoryName {
  /** `https://github.com` or a GitHub Enterprise Server's `https://HOST`. */
  host: string;
  /** `owner/repo`. */
  repository: string;
}

const OWNER_REPO = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/;
const HOST = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/;

/**
 * `owner/repo` and the web host from a remote URL: `https://HOST/owner/repo(.git)`,
 * `ssh://git@HOST/owner/repo.git`, or scp-like `git@HOST:owner/repo.git`. Anything else (a local
 * path, a deeper path) is undefined. Credentials in the URL are never part of the result.
 */
export function parseRemote(url: string): RepositoryName | undefined {
  const text = url.trim();
  let host: string;
  let path: string;
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(.+)$/.exec(text);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      return undefined;
    }
    if (!["https:", "http:", "ssh:", "git:"].includes(parsed.protocol)) return undefined;
    host = parsed.protocol === "ssh:" || parsed.protocol === "git:" ? parsed.hostname : parsed.host;
    path = decodeURIComponent(parsed.pathname);
  } else if (scp) {
    [host, path] = [scp[1], scp[2]];
  } else return undefined;
  const name = OWNER_REPO.exec(
    path
      .replace(/^\/+/, "")
      .replace(/\/+$/, "")
      .replace(/\.git$/, ""),
  );
  if (!name || !HOST.test(host)) return undefined;
  return { host: `https://${host.toLowerCase()}`, repository: `${name[1]}/${name[2]}` };
}

/** The web host behind a REST API base: `https://api.github.com` is github.com, `https://HOST/api/v3` is HOST. */
export function webHostOf(apiBase: string): string {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    return "https://github.com";
  }
  if (url.host.toLowerCase() === "api.github.com") return "https://github.com";
  // Only scheme, host and path: never a user or password the variable may carry.
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "").replace(/\/api\/v3$/i, "")}`;
}

/** The clone's `origin` remote as a GitHub repository, when it names one. */
export async function originOf(repo: string): Promise<RepositoryName | undefined> {
  try {
    return parseRemote((await git(repo, ["config", "--get", "remote.origin.url"])).toString("utf8"));
  } catch {
    return undefined; // no origin: the caller falls back to the folder's name
  }
}
