/** Headless Chromium for rendering tests: found on PATH, or required in CI (TIMEBOX_TEST_CHROMIUM=1). */
import { execFile, execFileSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { tempDir } from "./git-repo.js";

export function chromiumPath(): string | undefined {
  for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
    try {
      return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || undefined;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * Whether the rendering tests run: always where Chromium is installed; where it is not, they are
 * skipped — unless TIMEBOX_TEST_CHROMIUM is set (CI installs it), when they fail instead.
 */
export const chromiumRequired = () => Boolean(process.env.TIMEBOX_TEST_CHROMIUM);

/** Runs headless Chromium on a local file with no network and a throwaway profile; resolves with stdout. */
export function runChromium(binary: string, file: string, mode: { screenshot: string } | "dump-dom"): Promise<string> {
  const args = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    `--user-data-dir=${join(tempDir(), "profile")}`,
    "--window-size=1280,2000",
    mode === "dump-dom" ? "--dump-dom" : `--screenshot=${mode.screenshot}`,
    pathToFileURL(file).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: 90_000, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) reject(new Error(`chromium failed: ${error.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.subarray(1, 4).toString("latin1") !== "PNG") throw new Error("not a PNG");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
