/**
 * moto's server (`moto_server`) on a free loopback port, for the `aws-identity-center` tests:
 * started by the test, killed afterwards. moto keeps one Identity Center instance per account and
 * region, created on first use (AWS creates it when an organisation enables Identity Center);
 * users are created through `identitystore` CreateUser and permission sets through
 * `CreatePermissionSet`, as an administrator would.
 *
 * Where moto 5.2.1 departs from AWS (the tests rely only on what both do):
 * - it checks no credentials or signatures (any key is accepted), so "bad credentials" in the
 *   contract suite are an endpoint nobody listens on;
 * - CreateAccountAssignment records a duplicate for every call (AWS keeps one assignment), and
 *   the provisioning status is SUCCEEDED at once (AWS reports IN_PROGRESS first);
 * - it does not check that the account id belongs to the organisation, nor that the principal id
 *   exists in the Identity Store;
 * - DeleteAccountAssignment of an assignment that does not exist is a ResourceNotFoundException.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, createServer } from "node:net";
import { CreateUserCommand, IdentitystoreClient } from "@aws-sdk/client-identitystore";
import {
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListInstancesCommand,
  SSOAdminClient,
} from "@aws-sdk/client-sso-admin";

/** The key the tests' default credential chain sees (moto accepts any); never in an error. */
export const TEST_SECRET_KEY = "Timebox-Test-Secret-Key-0123456789abcdef";
const REGION = "eu-west-1";
export const ENDPOINT_ENV = "AWS_IC_ENDPOINT";

function motoPath(): string | undefined {
  const r = spawnSync("sh", ["-c", "command -v moto_server"], { encoding: "utf8" });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

function motoRequired(): boolean {
  return process.env.TIMEBOX_REQUIRE_MOTO === "1";
}

export function describeWithMoto(name: string, fn: () => void): void {
  if (motoPath() || motoRequired()) {
    describe(name, () => {
      if (motoRequired()) test("moto_server is installed (TIMEBOX_REQUIRE_MOTO asks for it)", () => expect(motoPath()).toBeDefined());
      fn();
    });
  } else {
    console.log(`skipping "${name}": moto_server is not installed (pip install 'moto[server]'; set TIMEBOX_REQUIRE_MOTO=1 to fail instead)`);
    describe.skip(name, fn);
  }
}

/** A port nobody listens on (for unreachable endpoints) or a free one to start a server on. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestMoto {
  endpoint: string;
  instanceArn: string;
  identityStoreId: string;
  /** The environment a provider resource reads (the endpoint). */
  env: Record<string, string>;
  /** Resource settings for the provider. */
  settings: { instance_arn: string; identity_store_id: string; region: string; endpoint_env: string };
  /** Clients of the tests' "administrator", never the provider. */
  sso: SSOAdminClient;
  identity: IdentitystoreClient;
  unique(prefix: string): string;
  /** A fresh 12-digit account id. */
  account(): string;
  addUser(userName: string): Promise<string>;
  addPermissionSet(name: string, sessionDuration?: string): Promise<string>;
  permissionSetArn(name: string): string;
  assign(account: string, permissionSet: string, userId: string): Promise<void>;
  /** User ids assigned the permission set in the account (read as the administrator). */
  assignedUserIds(account: string, permissionSet: string): Promise<string[]>;
  userId(userName: string): string;
  stop(): Promise<void>;
}

/** Makes the default credential chain find static keys (moto accepts any). */
function useTestCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = "AKIATIMEBOXTESTKEY01";
  process.env.AWS_SECRET_ACCESS_KEY = TEST_SECRET_KEY;
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

async function waitForServer(endpoint: string, child: ChildProcess): Promise<void> {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    // A plain TCP connect: no keep-alive socket left open for jest to wait on.
    const url = new URL(endpoint);
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(url.port), url.hostname);
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("moto_server did not start within 20 s");
}

export async function startTestMoto(): Promise<TestMoto> {
  const path = motoPath();
  if (!path) throw new Error("moto_server is not installed");
  useTestCredentials();
  const port = await freePort();
  const child = spawn(path, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitForServer(endpoint, child);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  const sso = new SSOAdminClient({ region: REGION, endpoint });
  const identity = new IdentitystoreClient({ region: REGION, endpoint });
  const instances = await sso.send(new ListInstancesCommand({}));
  const instance = instances.Instances?.[0];
  if (!instance?.InstanceArn || !instance.IdentityStoreId) throw new Error("moto listed no Identity Center instance");
  const instanceArn = instance.InstanceArn;
  const identityStoreId = instance.IdentityStoreId;
  const users = new Map<string, string>();
  const sets = new Map<string, string>();
  let accounts = 0;
  const base = 100_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;
  return {
    endpoint,
    instanceArn,
    identityStoreId,
    env: { [ENDPOINT_ENV]: endpoint },
    settings: { instance_arn: instanceArn, identity_store_id: identityStoreId, region: REGION, endpoint_env: ENDPOINT_ENV },
    sso,
    identity,
    unique: (prefix) => `${prefix}-${randomBytes(4).toString("hex")}`,
    account: () => String(base + ++accounts),
    async addUser(userName) {
      const out = await identity.send(
        new CreateUserCommand({
          IdentityStoreId: identityStoreId,
          UserName: userName,
          DisplayName: userName,
          Name: { GivenName: "Test", FamilyName: userName },
          Emails: [{ Value: userName.includes("@") ? userName : `${userName}@example.com`, Primary: true }],
        }),
      );
      users.set(userName, out.UserId!);
      return out.UserId!;
    },
    async addPermissionSet(name, sessionDuration = "PT1H") {
      const out = await sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: name, SessionDuration: sessionDuration }));
      const arn = out.PermissionSet!.PermissionSetArn!;
      sets.set(name, arn);
      return arn;
    },
    permissionSetArn(name) {
      const arn = sets.get(name);
      if (!arn) throw new Error(`no permission set ${name}`);
      return arn;
    },
    userId(userName) {
      const id = users.get(userName);
      if (!id) throw new Error(`no user ${userName}`);
      return id;
    },
    async assign(account, permissionSet, userId) {
      await sso.send(
        new CreateAccountAssignmentCommand({
          InstanceArn: instanceArn,
          TargetId: account,
          TargetType: "AWS_ACCOUNT",
          PermissionSetArn: sets.get(permissionSet),
          PrincipalType: "USER",
          PrincipalId: userId,
        }),
      );
    },
    async assignedUserIds(account, permissionSet) {
      const arn = sets.get(permissionSet);
      if (!arn) return [];
      const out = await sso.send(new ListAccountAssignmentsCommand({ InstanceArn: instanceArn, AccountId: account, PermissionSetArn: arn }));
      return (out.AccountAssignments ?? []).filter((a) => a.PrincipalType === "USER").map((a) => a.PrincipalId!);
    },
    async stop() {
      sso.destroy();
      identity.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 3000)))]);
        clearTimeout(timer);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    },
  };
}
