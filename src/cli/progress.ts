/**
 * A one-line progress bar for a terminal: `label [#####-----] 42% 42,000/100,000`. Redraws at most
 * every 100 ms (and at 100%), and erases itself when done. A dozen lines do not justify a dependency.
 */
export interface ProgressBar {
  update(done: number, total: number): void;
  done(): void;
}

export function progressBar(write: (text: string) => void, label: string, clock: () => number = Date.now, width = 30): ProgressBar {
  let lastAt = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(done, total) {
      const now = clock();
      if (done < total && now - lastAt < 100) return;
      lastAt = now;
      const ratio = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(ratio * width);
      write(
        `\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")}`,
      );
      drawn = true;
    },
    done() {
      if (drawn) write("\r\x1b[2K");
      drawn = false;
    },
  };
}
