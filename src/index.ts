import type { ApplicationFunction } from "probot";
import { onReviewChanged, REVIEW_CHANGE_EVENTS } from "./handlers/pull-request-review.js";
import { onPullRequestChanged, REVIEW_EVENTS } from "./handlers/pull-request.js";
import type { AppDeps } from "./handlers/deps.js";
import { knownProviders } from "./policy/providers.js";
import { KeyedQueue } from "./util/keyed-queue.js";

/** The composition root: wires events to handlers. No logic lives here. */
const timebox: ApplicationFunction = (app) => {
  const deps: AppDeps = { providers: knownProviders(), queue: new KeyedQueue() };
  app.on([...REVIEW_EVENTS], onPullRequestChanged(deps));
  app.on([...REVIEW_CHANGE_EVENTS], onReviewChanged(deps));
  app.log.info("Timebox is listening for pull requests");
};

export default timebox;
