import type { TimeboxEvent } from "../events/event.js";
import type { NotificationSpec } from "../policy/types.js";
import { eventNameOf } from "./blocks.js";

/**
 * Whether a channel of the policy wants an event: every filter it sets must match. An event that
 * names no resource (or role) reaches only channels that do not filter on it.
 */
export function routes(spec: NotificationSpec, event: TimeboxEvent): boolean {
  const { resource, role } = event.data;
  if (spec.resources && (resource === undefined || !spec.resources.includes(resource))) return false;
  if (spec.roles && (role === undefined || !spec.roles.includes(role))) return false;
  if (spec.events && !spec.events.includes(eventNameOf(event))) return false;
  return true;
}
