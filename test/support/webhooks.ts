import examples from "@octokit/webhooks-examples";

type Example = Record<string, any>;

/** A real webhook payload from `@octokit/webhooks-examples`, deep-copied, with the given overrides. */
function examplePayload(event: string, action: string): Example {
  const group = (examples as unknown as Array<{ name: string; examples: Example[] }>).find((e) => e.name === event);
  const example = group?.examples.find((x) => x.action === action);
  if (!example) throw new Error(`no example payload for ${event}.${action}`);
  return structuredClone(example);
}

export interface PullRequestShape {
  owner: string;
  repo: string;
  number: number;
  author: string;
  sender?: string;
  headSha: string;
  baseSha?: string;
  installationId?: number;
}

/** A `pull_request` payload as GitHub sends it, pointed at our repository and PR. */
export function pullRequestPayload(action: string, shape: PullRequestShape): Example {
  const payload = examplePayload("pull_request", action === "synchronize" || action === "edited" ? "opened" : action);
  payload.action = action;
  payload.number = shape.number;
  aboutOurPull(payload, shape);
  if (shape.baseSha) payload.pull_request.base.sha = shape.baseSha;
  payload.sender.login = shape.sender ?? shape.author;
  return payload;
}

/** Points an example payload at our installation, repository and PR. */
function aboutOurPull(payload: Example, shape: PullRequestShape): void {
  payload.installation = { id: shape.installationId ?? 1, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
  payload.repository.name = shape.repo;
  payload.repository.full_name = `${shape.owner}/${shape.repo}`;
  payload.repository.owner.login = shape.owner;
  payload.pull_request.number = shape.number;
  payload.pull_request.user.login = shape.author;
  payload.pull_request.head.sha = shape.headSha;
}
