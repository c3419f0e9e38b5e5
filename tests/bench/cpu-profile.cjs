/**
 * Preloaded with NODE_OPTIONS=--require (which refuses --cpu-prof) by the
 * benchmarks when asked to profile (fanout.ts: FANOUT_CPU_PROF, crawl-compare.ts:
 * CRAWL_COMPARE_PROFILE_DIR): when CPU_PROFILE_DIR is set it profiles the whole
 * process with the inspector and writes <dir>/<pid>.cpuprofile when it exits.
 * On the main thread the inspector session answers synchronously, so the
 * 'exit' handler can still collect the profile.
 */
"use strict";
const inspector = require("node:inspector");
const { writeFileSync } = require("node:fs");
const { join } = require("node:path");

const dir = process.env.CPU_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  session.post("Profiler.start");
  process.once("exit", () => {
    session.post("Profiler.stop", (error, result) => {
      if (!error) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
