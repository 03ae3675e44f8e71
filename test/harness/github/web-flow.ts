/**
 * The emulated GitHub's "web-flow" signing key: GitHub signs the commits it creates (an App's
 * commits through the API, merges) with an OpenPGP key whose public half it publishes
 * (https://github.com/web-flow.gpg). The emulator has its own RSA key and signs synchronously —
 * routes are synchronous — by writing the OpenPGP v4 packets (RFC 4880) itself with Node's crypto.
 * Tests hand `webFlowPublicKey()` to `timebox audit --trusted-key`, as an auditor would hand it
 * GitHub's published key; `signCommitPayload` also lets a test make "Timebox's" commits in a
 * plain local repository.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";

/** Key creation time: fixed, well before any commit a test makes. */
const KEY_CREATED = Date.parse("2015-01-01T00:00:00Z") / 1000;
const USER_ID = "GitHub (emulated web-flow commit signing) <noreply@github.com>";

interface SigningKey {
  privateKey: KeyObject;
  publicPacket: Buffer;
  fingerprint: Buffer;
  armoredPublic: string;
}

let key: SigningKey | undefined;

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

function mpi(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const v = bytes.subarray(i);
  const bits = (v.length - 1) * 8 + (v[0] === 0 ? 0 : Math.floor(Math.log2(v[0])) + 1);
  return Buffer.concat([u16(bits), v]);
}

function packet(tag: number, body: Buffer): Buffer {
  const len = body.length;
  const header =
    len < 192
      ? Buffer.from([0xc0 | tag, len])
      : len < 8384
        ? Buffer.from([0xc0 | tag, ((len - 192) >> 8) + 192, (len - 192) & 0xff])
        : Buffer.concat([Buffer.from([0xc0 | tag, 0xff]), u32(len)]);
  return Buffer.concat([header, body]);
}

const subpacket = (type: number, data: Buffer) => Buffer.concat([Buffer.from([data.length + 1, type]), data]);

function crc24(data: Buffer): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

function armor(kind: "PUBLIC KEY BLOCK" | "SIGNATURE", data: Buffer): string {
  const lines = data.toString("base64").match(/.{1,64}/g) ?? [];
  const crc = Buffer.from([(crc24(data) >> 16) & 0xff, (crc24(data) >> 8) & 0xff, crc24(data) & 0xff]).toString("base64");
  return `-----BEGIN PGP ${kind}-----\n\n${lines.join("\n")}\n=${crc}\n-----END PGP ${kind}-----\n`;
}

/** A v4 RSA/SHA-256 signature packet of `type` over `data`, made at `created` (seconds). */
function signaturePacket(k: { privateKey: KeyObject; fingerprint: Buffer }, type: number, data: Buffer, created: number, extraHashed: Buffer[] = []): Buffer {
  const hashedSub = Buffer.concat([subpacket(2, u32(created)), subpacket(33, Buffer.concat([Buffer.from([4]), k.fingerprint])), ...extraHashed]);
  const head = Buffer.concat([Buffer.from([4, type, 1, 8]), u16(hashedSub.length), hashedSub]);
  const trailer = Buffer.concat([Buffer.from([4, 0xff]), u32(head.length)]);
  const signed = Buffer.concat([data, head, trailer]);
  const left16 = createHash("sha256").update(signed).digest().subarray(0, 2);
  const rsa = sign("sha256", signed, k.privateKey); // EMSA-PKCS1-v1_5 with SHA-256's DigestInfo, as OpenPGP's RSA signatures are
  const unhashed = subpacket(16, k.fingerprint.subarray(12));
  return packet(2, Buffer.concat([head, u16(unhashed.length), unhashed, left16, mpi(rsa)]));
}

function signingKey(): SigningKey {
  if (key) return key;
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = publicKey.export({ format: "jwk" });
  const n = Buffer.from(jwk.n!, "base64url");
  const e = Buffer.from(jwk.e!, "base64url");
  const body = Buffer.concat([Buffer.from([4]), u32(KEY_CREATED), Buffer.from([1]), mpi(n), mpi(e)]);
  const fingerprint = createHash("sha1")
    .update(Buffer.concat([Buffer.from([0x99]), u16(body.length), body]))
    .digest();
  const uid = Buffer.from(USER_ID, "utf8");
  const certified = Buffer.concat([Buffer.from([0x99]), u16(body.length), body, Buffer.from([0xb4]), u32(uid.length), uid]);
  // Positive certification of the user ID: key flags certify + sign, primary user ID.
  const selfSig = signaturePacket({ privateKey, fingerprint }, 0x13, certified, KEY_CREATED, [
    subpacket(27, Buffer.from([0x03])),
    subpacket(25, Buffer.from([1])),
  ]);
  const publicPacket = packet(6, body);
  const transferable = Buffer.concat([publicPacket, packet(13, uid), selfSig]);
  key = { privateKey, publicPacket, fingerprint, armoredPublic: armor("PUBLIC KEY BLOCK", transferable) };
  return key;
}

/** The emulator's web-flow public key, armored (what GitHub publishes at /web-flow.gpg). */
export function webFlowPublicKey(): string {
  return signingKey().armoredPublic;
}

/** The key's fingerprint, upper-case hex. */
export function webFlowFingerprint(): string {
  return signingKey().fingerprint.toString("hex").toUpperCase();
}

/** A detached, armored signature over `payload` (a commit object without its gpgsig header), made at `at`. */
export function signCommitPayload(payload: string | Buffer, at: Date): string {
  const k = signingKey();
  return armor("SIGNATURE", signaturePacket(k, 0x00, Buffer.isBuffer(payload) ? payload : Buffer.from(payload, "utf8"), Math.floor(at.getTime() / 1000)));
}

/** The `gpgsig` header as git writes it into a commit object: the armor, continuation lines indented by one space. */
export function gpgsigHeader(signature: string): string {
  return `gpgsig ${signature.replace(/\n$/, "").split("\n").join("\n ")}\n`;
}
