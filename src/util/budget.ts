/**
 * Waits for `work` at most `ms`. Work that finishes (or fails) in time is awaited as usual; work
 * still running then goes on by itself, and a later failure is handed to `onLateError`.
 */
export async function awaitWithin(work: Promise<unknown>, ms: number, onLateError: (error: unknown) => void): Promise<"done" | "continuing"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"continuing">((resolve) => {
    timer = setTimeout(() => resolve("continuing"), ms);
  });
  try {
    const result = await Promise.race([work.then(() => "done" as const), late]);
    if (result === "continuing") work.catch(onLateError);
    return result;
  } finally {
    clearTimeout(timer);
  }
}
