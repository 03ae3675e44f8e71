/**
 * Reads the schedules a judgement needs, before the (pure) decision: for each (login, schedule)
 * pair the rules ask about, every moment that login may be judged at (see facts.ts), one reading
 * per schedule and minute.
 */
import { scheduleOf } from "../policy/principals.js";
import type { OnCallDirectory } from "./directory.js";
import { momentsFor, type OnCallFacts, type OnCallMoments } from "./facts.js";
import { readingKey, type ScheduleReading } from "./types.js";

export async function readSchedules(
  directory: OnCallDirectory,
  needs: ReadonlyArray<{ login: string; team: string }>,
  moments: OnCallMoments,
): Promise<OnCallFacts> {
  const wanted = new Map<string, { ref: NonNullable<ReturnType<typeof scheduleOf>>; at: Date }>();
  for (const { login, team } of needs) {
    const ref = scheduleOf(team);
    if (!ref) continue;
    for (const at of momentsFor(moments, login)) {
      const t = Date.parse(at);
      if (Number.isNaN(t)) continue;
      wanted.set(readingKey(ref.ref, t), { ref, at: new Date(t) });
    }
  }
  const readings = new Map<string, ScheduleReading>();
  await Promise.all([...wanted].map(async ([key, { ref, at }]) => readings.set(key, await directory.read(ref, at))));
  return { moments, readings };
}

/** Whether any of the pairs names an on-call schedule (only then are schedules and break-glass records read). */
export const needsSchedules = (needs: ReadonlyArray<{ team: string }>): boolean => needs.some((n) => scheduleOf(n.team) !== undefined);
