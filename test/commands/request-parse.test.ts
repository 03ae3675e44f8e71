import { parseRequestCommand, parseRequestForm } from "../../src/commands/request-parse.js";
import { requestBranch, requestGrantPath, requestGrantText, requestId } from "../../src/commands/request-grant.js";
import { parseYaml } from "../../src/yaml/parse.js";
import { formBody } from "./request-support.js";

describe("/timebox request", () => {
  test("resource, role, duration, the rest of the line as the reason, and a ticket: word", () => {
    expect(parseRequestCommand("/timebox request prod-db readonly 2h look at ticket:INC-12 the queries\nthanks")).toEqual({
      input: { resource: "prod-db", role: "readonly", duration: "2h", reason: "look at the queries", ticket: "INC-12" },
    });
    expect(parseRequestCommand("  /Timebox   request a b 1h why")).toEqual({ input: { resource: "a", role: "b", duration: "1h", reason: "why" } });
  });

  test("other comments are not requests; incomplete ones say what is missing", () => {
    expect(parseRequestCommand("please /timebox request a b 1h x")).toBeUndefined();
    expect(parseRequestCommand("/timebox revoke")).toBeUndefined();
    expect(parseRequestCommand("/timebox request a b")).toEqual({ problem: "give a resource, a role, a duration and a reason" });
    expect(parseRequestCommand("/timebox request a b 1h ticket:X")).toEqual({ problem: "give a reason after the duration" });
    expect(parseRequestCommand("/timebox request a b 1h why ticket:X ticket:Y")).toEqual({ problem: "give at most one `ticket:<id>`" });
    expect(parseRequestCommand(`/timebox request a b 1h ${"y".repeat(501)}`)).toEqual({ problem: "the reason is 501 characters; keep it to 500" });
  });
});

describe("the request issue form", () => {
  test("its sections, with an empty optional ticket", () => {
    expect(parseRequestForm(formBody({ resource: "prod-db", role: "readonly", duration: "30m", reason: "two\nlines" }))).toEqual({
      input: { resource: "prod-db", role: "readonly", duration: "30m", reason: "two lines" },
    });
  });

  test("an issue without the form's sections is not a request; a field of two words is refused", () => {
    expect(parseRequestForm("### Resource\n\nprod-db\n\nplease")).toBeUndefined();
    expect(parseRequestForm(formBody({ resource: "prod db", role: "readonly", duration: "30m", reason: "x" }))).toEqual({
      problem: "the resource is one word",
    });
  });
});

describe("what Timebox writes", () => {
  const input = { resource: "prod-db", role: "read-only", duration: "2h", reason: 'say "hi"\nticket: x # not a key', ticket: "INC-1" };

  test("the grant file holds exactly the typed values, none of them able to add a key", () => {
    const parsed = parseYaml("g.yaml", requestGrantText("dev1", input, 7));
    expect(parsed.ok && parsed.yaml.value).toEqual({
      requester: "dev1",
      resource: "prod-db",
      role: "read-only",
      duration: "2h",
      reason: 'say "hi"\nticket: x # not a key',
      ticket: "INC-1",
    });
  });

  test("branch and path: one segment per identifier, the id stable per seed", () => {
    const id = requestId("acme/access comment 1");
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(requestId("acme/access comment 1")).toBe(id);
    expect(requestId("acme/access comment 2")).not.toBe(id);
    expect(requestBranch("Dev1", input, id)).toBe(`timebox/request/dev1/prod-db/read-only/${id}`);
    expect(requestBranch("dev1", { resource: "a-b", role: "c" }, id)).not.toBe(requestBranch("dev1", { resource: "a", role: "b-c" }, id));
    expect(requestGrantPath("grants/", "Dev1", input, id)).toBe(`grants/dev1-prod-db-read-only-${id}.yaml`);
    expect(requestGrantPath("access/grants", "dev1", input, id)).toBe(`access/grants/dev1-prod-db-read-only-${id}.yaml`);
  });
});
