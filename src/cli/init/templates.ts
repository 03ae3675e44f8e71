/**
 * The files `timebox init` writes into a new access repository. Each is valid as written (the
 * policy passes `timebox validate`), with comments that say what to change.
 */

/** The providers `timebox init --providers` knows an example resource for, in the order they are shown. */
export const INIT_PROVIDERS = ["postgres", "mysql", "github", "kubernetes", "aws-identity-center", "gcp-iam", "ldap", "webhook"] as const;
export type InitProvider = (typeof INIT_PROVIDERS)[number];

export const DEFAULT_PROVIDERS: readonly InitProvider[] = ["postgres", "github"];

export interface TemplateOptions {
  /** The GitHub organisation whose teams approve and request (`@<org>/sre`, …). */
  org: string;
  providers: readonly InitProvider[];
  /** The Timebox action to run on pull requests, `owner/repo@ref`. */
  action: string;
}

/** An example resource per provider: its name, the YAML block (indented under `resources:`), and one role for the example grant. */
interface Example {
  resource: string;
  role: string;
  block: (org: string) => string;
}

const EXAMPLES: Record<InitProvider, Example> = {
  postgres: {
    resource: "prod-db",
    role: "readonly",
    block: (org) => `  # PostgreSQL (docs/providers/postgres.md): Timebox grants an existing role to the person's login role.
  prod-db:
    provider: postgres
    description: Production PostgreSQL
    settings:
      url_env: PROD_DB_URL            # the NAME of an environment variable on Timebox's side, never the URL itself
    roles:
      readonly:
        target: analytics_read        # an existing role without members
        max_duration: 8h
        approvers: ["@${org}/sre"]
        approvals: 1
`,
  },
  mysql: {
    resource: "orders-db",
    role: "readonly",
    block: (org) => `  # MySQL / MariaDB (docs/providers/mysql.md): Timebox grants an existing role to the person's account.
  orders-db:
    provider: mysql
    settings:
      url_env: ORDERS_DB_URL
    roles:
      readonly:
        target: orders_read
        max_duration: 8h
        approvers: ["@${org}/sre"]
`,
  },
  github: {
    resource: "github",
    role: "deploy",
    block: (org) => `  # GitHub (docs/providers/github.md): temporary repository permission (owner/repo) or team membership (@org/team).
  github:
    provider: github
    settings:
      token_env: TIMEBOX_GITHUB_PROVIDER_TOKEN   # or app_id_env + private_key_env + installation_id_env (a separate app)
    roles:
      deploy:
        target: ${org}/deployments    # a repository: the person gets \`permission\` on it
        settings: { permission: push }
        max_duration: 4h
        approvers: ["@${org}/sre"]
`,
  },
  kubernetes: {
    resource: "prod-cluster",
    role: "viewer",
    block: (org) => `  # Kubernetes (docs/providers/kubernetes.md): a labelled RoleBinding or ClusterRoleBinding per grant.
  prod-cluster:
    provider: kubernetes
    settings:
      kubeconfig_env: PROD_KUBECONFIG
    roles:
      viewer:
        target: "ClusterRole/view"    # or "<namespace>/Role/<name>"
        max_duration: 8h
        approvers: ["@${org}/sre"]
`,
  },
  "aws-identity-center": {
    resource: "aws-prod",
    role: "readonly",
    block: (org) => `  # AWS IAM Identity Center (docs/providers/aws-identity-center.md): an account assignment per grant.
  aws-prod:
    provider: aws-identity-center
    settings:
      instance_arn: arn:aws:sso:::instance/ssoins-0123456789abcdef
      identity_store_id: d-0123456789
      region: eu-west-1
    roles:
      readonly:
        target: "123456789012/ProdReadOnly"   # <account id>/<permission set name>
        max_duration: 8h
        approvers: ["@${org}/sre"]
`,
  },
  "gcp-iam": {
    resource: "gcp-prod",
    role: "sql-client",
    block: (org) => `  # Google Cloud IAM (docs/providers/gcp-iam.md): a conditional binding that expires by itself too.
  gcp-prod:
    provider: gcp-iam
    settings:
      credentials_env: GCP_TIMEBOX_KEY
    roles:
      sql-client:
        target: "projects/${org}-prod#roles/cloudsql.client"
        max_duration: 4h
        approvers: ["@${org}/sre"]
`,
  },
  ldap: {
    resource: "directory",
    role: "ops",
    block: (org) => `  # LDAP / Active Directory (docs/providers/ldap.md): group membership.
  directory:
    provider: ldap
    settings:
      url_env: LDAP_URL
      bind_dn_env: LDAP_BIND_DN
      bind_password_env: LDAP_BIND_PASSWORD
      base_dn: "ou=people,dc=example,dc=org"
    roles:
      ops:
        target: "cn=ops,ou=groups,dc=example,dc=org"
        max_duration: 8h
        approvers: ["@${org}/sre"]
`,
  },
  webhook: {
    resource: "vpn",
    role: "prod-network",
    block: (org) => `  # A signed webhook (docs/providers/webhook.md): your own service grants and revokes.
  vpn:
    provider: webhook
    settings:
      url_env: VPN_WEBHOOK_URL
      secret_env: VPN_WEBHOOK_SECRET
    roles:
      prod-network:
        target: prod-admins
        max_duration: 4h
        approvers: ["@${org}/sre"]
`,
  },
};

/** The resource and role of the example grant: the first chosen provider's. */
function exampleRole(providers: readonly InitProvider[]): { resource: string; role: string } {
  const e = EXAMPLES[providers[0] ?? DEFAULT_PROVIDERS[0]];
  return { resource: e.resource, role: e.role };
}

export function policyTemplate(o: TemplateOptions): string {
  return `# yaml-language-server: $schema=https://raw.githubusercontent.com/acme/timebox/main/schemas/policy.schema.json
#
# Timebox policy: who may get what, for how long, approved by whom. Timebox always reads it from the
# default branch (a pull request that changes it is judged by the old one, and needs the owners).
# Reference: the policy schema (schemas/policy.schema.json) and docs/ in the Timebox repository.
version: 1

# Where grant files live (one file per grant; the path is the grant's id).
grants_path: grants/

# A request pull request left open this long is closed.
request_ttl: 24h

# Who must approve changes to this file.
owners: ["@${o.org}/security"]

# Who may ask at all (logins and @org/team slugs). Without it, anyone who can open a pull request
# (or comment \`/timebox request\`) may ask; every grant still needs its approvers.
requesters: ["@${o.org}/engineering"]

# Requests are for oneself: the grant's requester must be the pull request's author.
allow_on_behalf: false

# Uncomment to require a ticket on every grant (ticket: INC-1234, or ticket:INC-1234 in /timebox request).
# ticket_pattern: "^(INC|CHG)-[0-9]+$"

# GitHub login -> provider -> the person's principal there, where it is not their GitHub login.
identities: {}
#  octocat: { postgres: octocat_login }

resources:
${o.providers.map((p) => EXAMPLES[p].block(o.org)).join("\n")}`;
}

function exampleGrant(providers: readonly InitProvider[], requester: string): string {
  const { resource, role } = exampleRole(providers);
  return `requester: ${requester}
resource: ${resource}
role: ${role}
duration: 2h
reason: Investigate INC-1234 slow checkout queries
ticket: INC-1234
`;
}

export function grantsReadme(o: TemplateOptions): string {
  const { resource, role } = exampleRole(o.providers);
  return `# Grants: temporary production access

Every file in this folder is one grant: who gets which role of which resource, for how long, and
why. Timebox validates it on the pull request, checks that the right people approved, applies it
when the pull request merges, and takes it away when the time is up (removing the file with its
own commit). The rules are in [\`.github/timebox.yml\`](../.github/timebox.yml).

## Ask for access

Pick one:

1. **The issue form** — *Issues → New issue → Timebox access request*. Timebox opens the pull
   request for you and answers on the issue.
2. **A comment** on any issue of this repository:

   \`\`\`
   /timebox request ${resource} ${role} 2h investigate slow checkout queries ticket:INC-1234
   \`\`\`

   \`/timebox request <resource> <role> <duration> <reason…> [ticket:<id>]\` — Timebox checks it
   against the policy first: if it is not allowed, the reply says why and what is.
3. **A pull request** adding a file here, e.g. \`grants/<your-login>-${resource}.yaml\`:

   \`\`\`yaml
${exampleGrant(o.providers, "your-login")
  .trimEnd()
  .split("\n")
  .map((l) => `   ${l}`)
  .join("\n")}
   \`\`\`

Durations are shorthand (\`30m\`, \`2h\`, \`1h30m\`, \`1d\`) or ISO 8601 (\`PT2H\`), at most the role's
\`max_duration\`. You ask for yourself: \`requester\` is you.

## What happens next

- The \`timebox/validate\` and \`timebox/approval\` checks and a comment on the pull request say
  what is wrong, who still has to approve, and what happens on merge.
- Your own review never counts, nor does the review of whoever pushed the last commit.
- After the merge Timebox grants the access and comments when it expires; \`/timebox revoke\`
  on the pull request ends it early.
`;
}

export function issueForm(o: TemplateOptions): string {
  const { resource, role } = exampleRole(o.providers);
  return `# Timebox turns an issue opened with this form into a pull request adding a grant file for the
# person who opened it. The field labels (Resource, Role, Duration, Reason, Ticket) are what
# Timebox reads: keep them as they are.
name: Timebox access request
description: Ask for temporary production access; Timebox opens the pull request for you.
title: "Access request"
body:
  - type: markdown
    attributes:
      value: |
        Timebox checks the request against \`.github/timebox.yml\` and either opens a pull request
        adding your grant file or answers here with what is wrong and what is allowed. You are the
        requester; someone else must approve.
  - type: input
    id: resource
    attributes:
      label: Resource
      description: A resource named in .github/timebox.yml.
      placeholder: ${resource}
    validations:
      required: true
  - type: input
    id: role
    attributes:
      label: Role
      description: One of that resource's roles.
      placeholder: ${role}
    validations:
      required: true
  - type: input
    id: duration
    attributes:
      label: Duration
      description: How long, at most the role's max_duration — 30m, 2h, 1h30m, 1d or ISO 8601 (PT2H).
      placeholder: 2h
    validations:
      required: true
  - type: textarea
    id: reason
    attributes:
      label: Reason
      description: Why you need it, in a sentence an auditor can understand later (at most 500 characters).
    validations:
      required: true
  - type: input
    id: ticket
    attributes:
      label: Ticket
      description: The incident or change ticket, when the policy asks for one (e.g. INC-1234).
    validations:
      required: false
`;
}

export function workflow(o: TemplateOptions): string {
  return `# Runs Timebox's validation (the same rules as the app's timebox/validate check) on every pull
# request, with line annotations. Approvals and access are the app's job, not this workflow's.
name: Timebox
on:
  pull_request:
permissions:
  contents: read
jobs:
  validate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      # Pin to a tag or commit of Timebox you trust.
      - uses: ${o.action}
`;
}
