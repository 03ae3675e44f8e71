import { afterAll, beforeAll, beforeEach, describe, expect, test } from "@jest/globals";
import { directoryFromEnv, OnCallDirectory } from "../../src/oncall/directory.js";
import { OpsgenieSchedules } from "../../src/oncall/opsgenie.js";
import { PagerDutySchedules } from "../../src/oncall/pagerduty.js";
import { scheduleOf } from "../../src/policy/principals.js";
import { OG_KEY, PD_TOKEN, resetOnCallServer, startOnCallServer, type OnCallServer } from "./server.js";

let server: OnCallServer;
beforeAll(async () => {
  server = await startOnCallServer();
});
afterAll(() => server.stop());
beforeEach(() => resetOnCallServer(server, { "SRE Primary": [{ email: "dev1@example.com", start: "2026-03-02T09:00:00Z", end: "2026-03-02T09:30:00Z" }] }));

const env = () => ({
  PAGERDUTY_API_TOKEN: PD_TOKEN,
  TIMEBOX_PAGERDUTY_API_URL: server.url,
  OPSGENIE_API_KEY: OG_KEY,
  TIMEBOX_OPSGENIE_API_URL: `${server.url}/`,
});
const ref = (r: string) => scheduleOf(r)!;

describe("PagerDuty", () => {
  test("asks /oncalls for the schedule and the minute, with the token and the v2 Accept header, users included", async () => {
    const source = new PagerDutySchedules(PD_TOKEN, server.url);
    const shifts = await source.read("PSRE01", new Date("2026-03-02T09:29:00Z"), new Date("2026-03-02T09:30:00Z"));
    expect(shifts).toEqual([{ who: ["PDEV1", "dev1@example.com"], start: Date.parse("2026-03-02T09:00:00Z"), end: Date.parse("2026-03-02T09:30:00Z") }]);
    const [req] = server.requests;
    expect(req.path).toBe("/oncalls");
    expect(req.query.getAll("schedule_ids[]")).toEqual(["PSRE01"]);
    expect(req.query.get("since")).toBe("2026-03-02T09:29:00.000Z");
    expect(req.query.get("until")).toBe("2026-03-02T09:30:00.000Z");
    expect(req.query.getAll("include[]")).toEqual(["users"]);
  });

  test("follows pagination (more: true) to the end", async () => {
    server.pagerduty.PBIG = Array.from({ length: 130 }, (_, i) => ({
      id: `PU${i}`,
      email: `u${i}@example.com`,
      start: "2026-03-02T09:00:00Z",
      end: "2026-03-02T10:00:00Z",
    }));
    const shifts = await new PagerDutySchedules(PD_TOKEN, server.url).read("PBIG", new Date("2026-03-02T09:10:00Z"), new Date("2026-03-02T09:11:00Z"));
    expect(shifts).toHaveLength(130);
    expect(server.requests.map((r) => r.query.get("offset"))).toEqual(["0", "100"]);
  });
});

describe("the directory", () => {
  test("who is on call at a moment: PagerDuty shifts keep their exact start and end", async () => {
    const dir = directoryFromEnv(env());
    const reading = await dir.read(ref("pagerduty:PSRE01"), new Date("2026-03-02T09:10:00Z"));
    expect(reading).toEqual({ ok: true, shifts: [expect.objectContaining({ who: ["PDEV1", "dev1@example.com"] })] });
  });

  test("Opsgenie: asks /v2/schedules/{name}/on-calls by name, flat, at the minute, with the GenieKey", async () => {
    const dir = directoryFromEnv(env());
    const reading = await dir.read(ref("opsgenie:SRE Primary"), new Date("2026-03-02T09:10:42Z"));
    expect(reading).toEqual({ ok: true, shifts: [expect.objectContaining({ who: ["dev1@example.com"] })] });
    const [req] = server.requests;
    expect(req.path).toBe("/v2/schedules/SRE%20Primary/on-calls");
    expect(req.authorization).toBe(`GenieKey ${OG_KEY}`);
    expect(req.query.get("date")).toBe("2026-03-02T09:10:00Z");
    expect(req.query.get("scheduleIdentifierType")).toBe("name");
    expect(req.query.get("flat")).toBe("true");
  });

  test("a second check within a minute makes no HTTP call; after a minute it asks again", async () => {
    let now = Date.parse("2026-03-02T09:10:00Z");
    const dir = new OnCallDirectory({ pagerduty: new PagerDutySchedules(PD_TOKEN, server.url) }, () => now);
    const at = new Date("2026-03-02T09:10:05Z");
    await dir.read(ref("pagerduty:PSRE01"), at);
    now += 59_000;
    const again = await dir.read(ref("pagerduty:PSRE01"), new Date("2026-03-02T09:10:50Z"));
    expect(again.ok).toBe(true);
    expect(server.requests).toHaveLength(1);
    now += 2_000;
    await dir.read(ref("pagerduty:PSRE01"), at);
    expect(server.requests).toHaveLength(2);
  });

  test("concurrent checks of one schedule and minute share one request", async () => {
    const dir = directoryFromEnv(env());
    const at = new Date("2026-03-02T09:10:00Z");
    await Promise.all([dir.read(ref("pagerduty:PSRE01"), at), dir.read(ref("pagerduty:PSRE01"), at)]);
    expect(server.requests).toHaveLength(1);
  });

  test("an unreadable schedule is a problem naming the service, the schedule and the HTTP status — never the token — and is asked again next time", async () => {
    server.failing.PSRE01 = 503;
    const dir = directoryFromEnv(env());
    const at = new Date("2026-03-02T09:10:00Z");
    const reading = await dir.read(ref("pagerduty:PSRE01"), at);
    expect(reading).toEqual({ ok: false, problem: "PagerDuty schedule PSRE01 could not be read: HTTP 503" });
    delete server.failing.PSRE01;
    expect((await dir.read(ref("pagerduty:PSRE01"), at)).ok).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  test("a wrong key: HTTP 401 with a hint, and the key is not in the message", async () => {
    const dir = directoryFromEnv({ ...env(), OPSGENIE_API_KEY: "wrong-key-abcdef" });
    const reading = await dir.read(ref("opsgenie:SRE Primary"), new Date("2026-03-02T09:10:00Z"));
    expect(reading.ok).toBe(false);
    const problem = (reading as { problem: string }).problem;
    expect(problem).toBe("Opsgenie schedule SRE Primary could not be read: HTTP 401 (check the app's API key and its access to this schedule)");
    expect(problem).not.toContain("wrong-key");
  });

  test("an unknown Opsgenie schedule: HTTP 404", async () => {
    const reading = await directoryFromEnv(env()).read(ref("opsgenie:nope"), new Date("2026-03-02T09:10:00Z"));
    expect(reading).toEqual({ ok: false, problem: "Opsgenie schedule nope could not be read: HTTP 404 (no such schedule)" });
  });

  test("a service that does not answer: the problem says so", async () => {
    const dir = new OnCallDirectory({ pagerduty: new PagerDutySchedules(PD_TOKEN, "http://127.0.0.1:9") });
    const reading = await dir.read(ref("pagerduty:PSRE01"), new Date("2026-03-02T09:10:00Z"));
    expect(reading).toEqual({ ok: false, problem: "PagerDuty schedule PSRE01 could not be read: the service could not be reached" });
  });

  test("a service without a key on the app: the problem names the variable to set", async () => {
    const dir = directoryFromEnv({});
    expect(await dir.read(ref("opsgenie:SRE Primary"), new Date())).toEqual({
      ok: false,
      problem: "Opsgenie schedule SRE Primary could not be read: OPSGENIE_API_KEY is not set on the app",
    });
    expect(server.requests).toHaveLength(0);
  });

  test("a disabled Opsgenie schedule puts nobody on call", async () => {
    const fake = async () =>
      new Response(JSON.stringify({ data: { _parent: { id: "x", name: "Off", enabled: false }, onCallRecipients: ["dev1@example.com"] } }));
    const shifts = await new OpsgenieSchedules(OG_KEY, "https://api.eu.opsgenie.com", fake).read("Off", new Date(), new Date());
    expect(shifts).toEqual([]);
  });
});
