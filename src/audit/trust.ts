/**
 * Which commits Timebox made. A commit's trailers are Timebox's records only when the commit is
 * authored by the app's bot AND carries an OpenPGP signature that verifies against a trusted key
 * — by default GitHub's published web-flow keys, with which GitHub signs the commits an App
 * creates through the API. Anyone can write trailers, and anyone can set their author name and
 * e-mail to the bot's; nobody but GitHub can sign with web-flow's key.
 */
import { createMessage, readKey, readSignature, verify, type Key } from "openpgp";
import { git } from "../git/repository.js";

export const DEFAULT_APP_LOGIN = "timebox[bot]";

/** A commit that carries Timebox-style trailers, and whether Timebox really made it. */
export interface CommitVerdict {
  sha: string;
  timebox: boolean;
  /** Why not, in words (empty when it is Timebox's). */
  reason: string;
  /** The author as the commit names it (`Name <email>`). */
  author: string;
  committer: string;
}

export class TrustedKeyError extends Error {}

/** Reads every key block in the armored texts; throws TrustedKeyError when one is not a public key. */
export async function readTrustedKeys(texts: readonly string[]): Promise<Key[]> {
  const keys: Key[] = [];
  for (const text of texts) {
    const blocks = text.match(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g) ?? [];
    if (blocks.length === 0) throw new TrustedKeyError("no armored OpenPGP public key (-----BEGIN PGP PUBLIC KEY BLOCK-----) found");
    for (const armoredKey of blocks) {
      try {
        const key = await readKey({ armoredKey });
        if (key.isPrivate()) throw new TrustedKeyError("a private key was given: give the public key only");
        keys.push(key);
      } catch (e) {
        if (e instanceof TrustedKeyError) throw e;
        throw new TrustedKeyError(`an OpenPGP public key could not be read: ${(e as Error).message}`);
      }
    }
  }
  return keys;
}

/** A raw commit object split as git does for signatures: headers, the signature, and the signed payload. */
interface RawCommit {
  author: string;
  committer: string;
  /** The armored signature of the `gpgsig` header, if any. */
  signature?: string;
  /** The commit object without its `gpgsig` header: the bytes that were signed. */
  payload: Buffer;
}

/** Splits a commit object (`git cat-file commit`) the way `git verify-commit` does. */
function parseRawCommit(raw: Buffer): RawCommit {
  const end = raw.indexOf("\n\n");
  const headerEnd = end < 0 ? raw.length : end + 1;
  const lines = raw.subarray(0, headerEnd).toString("latin1").split("\n").slice(0, -1);
  const kept: string[] = [];
  let signature: string[] | undefined;
  let inSig = false;
  let author = "";
  let committer = "";
  for (const line of lines) {
    if (line.startsWith(" ")) {
      if (inSig) signature!.push(line.slice(1));
      else kept.push(line);
      continue;
    }
    inSig = false;
    if (line.startsWith("gpgsig ")) {
      // A second gpgsig header makes the object ambiguous: no signature is taken from it.
      signature = signature === undefined ? [line.slice("gpgsig ".length)] : ["ambiguous"];
      inSig = true;
      continue;
    }
    if (line.startsWith("author ")) author = Buffer.from(line.slice(7), "latin1").toString("utf8");
    if (line.startsWith("committer ")) committer = Buffer.from(line.slice(10), "latin1").toString("utf8");
    kept.push(line);
  }
  const payload = Buffer.concat([Buffer.from(kept.map((l) => `${l}\n`).join(""), "latin1"), raw.subarray(headerEnd)]);
  return { author, committer, signature: signature?.join("\n"), payload };
}

const ident = (s: string) => /^(.*) <([^<>]*)> \d+ [+-]\d{4}$/.exec(s);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The app's bot, as GitHub writes it into the commits the App creates: `timebox[bot] <ID+timebox[bot]@users.noreply.HOST>`. */
export function isBotIdentity(identity: string, appLogin: string): boolean {
  const m = ident(identity);
  if (!m) return false;
  const login = appLogin.toLowerCase();
  return m[1].toLowerCase() === login && new RegExp(`^(\\d+\\+)?${escape(login)}@users\\.noreply\\.[a-z0-9.-]+$`).test(m[2].toLowerCase());
}

/** Whether `signature` is a valid signature over `payload` by one of `keys`, judged at the time the signature says it was made. */
async function verifiesWith(payload: Uint8Array, armoredSignature: string, keys: readonly Key[]): Promise<boolean> {
  try {
    const signature = await readSignature({ armoredSignature });
    const packets = signature.packets;
    if (packets.length !== 1) return false; // one signature, by one key
    const created = packets[0].created;
    if (!created) return false;
    const message = await createMessage({ binary: payload });
    // Keys are judged as at signing time: GitHub's first web-flow key expired in 2024 and still vouches for what it signed before.
    const result = await verify({ message, signature, verificationKeys: [...keys], date: created, expectSigned: true, format: "binary" });
    await result.signatures[0].verified;
    return true;
  } catch {
    return false;
  }
}

/**
 * Judges the given commits (those that carry Timebox-style trailers): read raw through one `git
 * cat-file --batch`, each must be authored by the app's bot and signed by a trusted key.
 */
export async function judgeCommits(
  repo: string,
  shas: readonly string[],
  trust: { keys: readonly Key[]; appLogin: string },
): Promise<Map<string, CommitVerdict>> {
  const verdicts = new Map<string, CommitVerdict>();
  const unique = [...new Set(shas)];
  if (unique.length === 0) return verdicts;
  const out = await git(repo, ["cat-file", "--batch"], `${unique.join("\n")}\n`);
  let at = 0;
  while (at < out.length) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) break;
    const m = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(out.subarray(at, eol).toString("utf8"));
    if (!m) {
      at = eol + 1;
      continue;
    }
    const size = Number(m[3]);
    const body = out.subarray(eol + 1, eol + 1 + size);
    at = eol + 1 + size + 1;
    if (m[2] !== "commit") continue;
    const raw = parseRawCommit(body);
    const verdict: CommitVerdict = {
      sha: m[1],
      timebox: false,
      reason: "",
      author: raw.author.replace(/ \d+ [+-]\d{4}$/, ""),
      committer: raw.committer.replace(/ \d+ [+-]\d{4}$/, ""),
    };
    if (!isBotIdentity(raw.author, trust.appLogin)) verdict.reason = `authored by ${verdict.author || "nobody"}, not ${trust.appLogin}`;
    else if (raw.signature === undefined) verdict.reason = "not signed";
    else if (!(await verifiesWith(raw.payload, raw.signature, trust.keys))) verdict.reason = "its signature does not verify with a trusted key";
    else verdict.timebox = true;
    verdicts.set(m[1], verdict);
  }
  for (const sha of unique) if (!verdicts.has(sha)) verdicts.set(sha, { sha, timebox: false, reason: "not a commit git can read", author: "", committer: "" });
  return verdicts;
}
