/**
 * What people type to ask for access without writing YAML: the `/timebox request` comment and the
 * request issue form. Parsing only — whether the request is allowed is for the grant file rules
 * (`grants/check.ts`), applied to the file Timebox would write.
 *
 * `/timebox request <resource> <role> <duration> <reason…> [ticket:<id>]` on a comment's first line:
 * the reason is the rest of that line; a `ticket:<id>` word anywhere after the duration is the
 * ticket (and is left out of the reason). Lines after the first are ignored.
 */

/** The longest reason accepted from a comment or the form (the grant schema allows more; a request stays short). */
const MAX_REASON_LENGTH = 500;
/** The longest ticket accepted (the grant schema's bound). */
const MAX_TICKET_LENGTH = 100;

export interface RequestInput {
  resource: string;
  role: string;
  duration: string;
  reason: string;
  ticket?: string;
}

/** A request, or why the text is not one (the usage is then shown). */
export type ParsedRequest = { input: RequestInput } | { problem: string };

export const REQUEST_USAGE = "/timebox request <resource> <role> <duration> <reason…> [ticket:INC-1234]";

/** The `/timebox request` command on a comment's first line, or undefined when the comment is no such command. */
export function parseRequestCommand(body: string): ParsedRequest | undefined {
  const first = body.replace(/^\s+/, "").split(/\r?\n/)[0].trim();
  const m = /^\/timebox\s+request(?:\s+(.*))?$/i.exec(first);
  if (!m) return undefined;
  const words = (m[1] ?? "").split(/\s+/).filter(Boolean);
  const [resource, role, duration, ...rest] = words;
  if (!resource || !role || !duration) return { problem: "give a resource, a role, a duration and a reason" };
  const tickets = rest.filter((w) => /^ticket:/i.test(w)).map((w) => w.slice("ticket:".length));
  if (tickets.length > 1) return { problem: "give at most one `ticket:<id>`" };
  const reason = rest.filter((w) => !/^ticket:/i.test(w)).join(" ");
  return checked({ resource, role, duration, reason, ticket: tickets[0] });
}

/** The field labels of the request issue form (`.github/ISSUE_TEMPLATE/timebox-request.yml`), as GitHub renders them. */
const FORM_FIELDS = { resource: "Resource", role: "Role", duration: "Duration", reason: "Reason", ticket: "Ticket" } as const;

/**
 * An issue body written by the request form: its `### <label>` sections. Undefined when the body
 * lacks any of the form's required sections (an ordinary issue).
 */
export function parseRequestForm(body: string): ParsedRequest | undefined {
  const sections = new Map<string, string>();
  let current: string | undefined;
  for (const line of body.split(/\r?\n/)) {
    const heading = /^###\s+(.+?)\s*$/.exec(line);
    if (heading) {
      current = heading[1].toLowerCase();
      if (!sections.has(current)) sections.set(current, "");
      continue;
    }
    if (current !== undefined) sections.set(current, `${sections.get(current)}\n${line}`);
  }
  const field = (label: string): string | undefined => {
    const text = sections.get(label.toLowerCase());
    if (text === undefined) return undefined;
    const value = text.replace(/\s+/g, " ").trim();
    return value === "_No response_" ? "" : value;
  };
  const resource = field(FORM_FIELDS.resource);
  const role = field(FORM_FIELDS.role);
  const duration = field(FORM_FIELDS.duration);
  const reason = field(FORM_FIELDS.reason);
  if (resource === undefined || role === undefined || duration === undefined || reason === undefined) return undefined;
  for (const [name, value] of [
    ["resource", resource],
    ["role", role],
    ["duration", duration],
  ] as const) {
    if (/\s/.test(value)) return { problem: `the ${name} is one word` };
  }
  if (!resource || !role || !duration) return { problem: "give a resource, a role, a duration and a reason" };
  return checked({ resource, role, duration, reason, ticket: field(FORM_FIELDS.ticket) || undefined });
}

/** Bounds shared by the command and the form: a reason, not an essay; a ticket, not a paragraph. */
function checked(input: RequestInput): ParsedRequest {
  const reason = input.reason.replace(/\s+/g, " ").trim();
  if (!reason) return { problem: "give a reason after the duration" };
  if (reason.length > MAX_REASON_LENGTH) return { problem: `the reason is ${reason.length} characters; keep it to ${MAX_REASON_LENGTH}` };
  if (input.ticket !== undefined && (input.ticket === "" || input.ticket.length > MAX_TICKET_LENGTH)) {
    return { problem: `a ticket is 1 to ${MAX_TICKET_LENGTH} characters (\`ticket:INC-1234\`)` };
  }
  return { input: { ...input, reason, ...(input.ticket !== undefined ? { ticket: input.ticket } : {}) } };
}
