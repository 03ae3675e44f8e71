/** The progress bar `timebox audit` draws on a terminal while it reads the history. */
import { progressBar } from "../../src/cli/progress.js";
import { runCli } from "../../src/cli/program.js";
import { removeGitRepos, TRUST } from "./git-repo.js";
import { scenario } from "./scenario.js";

afterAll(removeGitRepos);

test("redraws at most every 100 ms, always at 100%, and erases itself", () => {
  let out = "";
  let now = 0;
  const bar = progressBar(
    (t) => (out += t),
    "Reading history",
    () => now,
    10,
  );
  bar.update(0, 2000);
  now = 50;
  bar.update(1000, 2000); // too soon: skipped
  now = 150;
  bar.update(1000, 2000);
  now = 160;
  bar.update(2000, 2000); // the end is always drawn
  bar.done();
  expect(out.split("\r").filter(Boolean)).toEqual([
    "Reading history [----------]   0% 0/2,000",
    "Reading history [#####-----]  50% 1,000/2,000",
    "Reading history [##########] 100% 2,000/2,000",
    "\x1b[2K",
  ]);
});

test.each([
  // eslint-disable-next-line no-control-regex -- control characters are what this pattern is for
  [true, /^(\rReading history \[[#-]{30}\] +\d+% \d+\/11)*\rReading history \[#{30}\] 100% 11\/11\r\x1b\[2K$/],
  [false, /^$/],
])("on a terminal (%s) the CLI draws it on stderr; the report on stdout is the same", async (tty, stderr) => {
  const repo = scenario();
  const run = async (stderrIsTTY: boolean) => {
    let stdout = "";
    let err = "";
    const code = await runCli(["audit", ...TRUST(), "--repo", repo.root, "--format", "csv"], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (err += t),
      cwd: "/",
      env: {},
      stderrIsTTY,
    });
    return { code, stdout, err };
  };
  const r = await run(tty);
  expect(r.code).toBe(0);
  expect(r.err).toMatch(stderr);
  expect(r.stdout).toBe((await run(!tty)).stdout);
});
