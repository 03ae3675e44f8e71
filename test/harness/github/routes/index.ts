import { Router } from "../router.js";
import { appRoutes } from "./app.js";
import { checkRoutes } from "./checks.js";
import { gitRoutes } from "./git.js";
import { graphqlRoutes } from "../graphql.js";
import { issueRoutes } from "./issues.js";
import { orgRoutes } from "./orgs.js";
import { pullRoutes } from "./pulls.js";
import { repoRoutes } from "./repos.js";

export function buildRouter(): Router {
  const r = new Router();
  appRoutes(r);
  gitRoutes(r);
  repoRoutes(r);
  pullRoutes(r);
  issueRoutes(r);
  checkRoutes(r);
  orgRoutes(r);
  graphqlRoutes(r);
  return r;
}
