/**
 * Preloaded into the gateway (NODE_OPTIONS=--require, since --cpu-prof is not
 * allowed there) when FANOUT_CPU_PROF is set: samples the CPU with the
 * in-process inspector and writes a .cpuprofile into FANOUT_CPU_PROF on exit.
 */
const inspector = require("node:inspector");
const { writeFileSync } = require("node:fs");
const { join } = require("node:path");

const dir = process.env.FANOUT_CPU_PROF;
const session = new inspector.Session();
session.connect();
session.post("Profiler.enable");
session.post("Profiler.setSamplingInterval", { interval: 500 });
session.post("Profiler.start");
process.once("exit", () => {
  session.post("Profiler.stop", (error, result) => {
    if (!error) writeFileSync(join(dir, `gateway-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
});
