/**
 * Fan-out benchmark (issue 6, scenarios 1–3 and memory per idle connection).
 *
 * A synthetic scraper (real gRPC WatchEvents) emits JobEvents at R/s stamped
 * with Date.now(); the server under test — Trawl's gateway (dist/main.js),
 * a bare `ws` serialize-once server, or a Socket.IO 4 room broadcast — fans
 * them out to N clients opened by a separate load-generator process, which
 * measures receipt time − event time. The runner samples each server's CPU
 * and RSS from /proc. Every process is a child of this one and is killed on
 * exit. Run from tests/: `npx tsx bench/fanout.ts` (FANOUT_QUICK=1 for a
 * smoke run). Prints Markdown tables and Trawl/baseline ratios.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startGateway, type GatewayProcess } from "../support/stack.js";
import { type Child, cpuSeconds, rssKb, sleep, startChild } from "./fanout/harness.js";
import { type LoadGroup, type LoadReport, startLoadGroup } from "./fanout/load-group.js";

// ---- file-descriptor limit: re-exec under a raised `ulimit -n` ----------------
const WANTED_FDS = 65_536;
if (process.env.FANOUT_ULIMIT === undefined) {
  const hard = spawnSync("bash", ["-c", "ulimit -Hn"], { encoding: "utf8" }).stdout.trim();
  const limit = hard === "unlimited" ? WANTED_FDS : Math.min(WANTED_FDS, Number(hard));
  const result = spawnSync("bash", ["-c", `ulimit -n ${limit} && exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, FANOUT_ULIMIT: String(limit) },
  });
  process.exit(result.status ?? 1);
}

const QUICK = process.env.FANOUT_QUICK === "1";
/** Load-generator processes per measurement (FANOUT_LOAD_GENERATORS): two, so one client process is not the ceiling. */
const LOAD_GENERATORS = Number(process.env.FANOUT_LOAD_GENERATORS ?? 2);
/** FANOUT_ONLY=trawl,bare,sio,edges,slow runs a subset (default: all). */
const ONLY = new Set((process.env.FANOUT_ONLY ?? "trawl,bare,sio,edges,slow").split(","));
/** FANOUT_EDGES=trpc,sio-trawl picks the edges of scenario 2 (default: both). */
const EDGES = new Set((process.env.FANOUT_EDGES ?? "trpc,sio-trawl").split(","));
const WINDOW_MS = QUICK ? 2_000 : 3_000;
const CLIENT_COUNTS = QUICK ? [200, 1_000] : [1_000, 5_000, 10_000];
/** At the first N, R steps up from here until delivery breaks (the sustainable rate); the others run the grid. */
const RATE_STEPS = QUICK ? [20, 100, 1_000] : [20, 50, 100, 200, 500, 1_000, 2_000, 5_000];
const GRID_RATES = [20, 100, 1_000];
/**
 * Scenario 3 runs few clients at a high rate for longer: the paused sockets must
 * overflow the kernel's loopback buffers (a few MB each) before the server sees
 * any backpressure, while the healthy ones stay within what one load-generator
 * core can read.
 */
const SLOW_N = 50;
const SLOW_RATE = 2_000;
const SLOW_WINDOW_MS = QUICK ? 4_000 : 8_000;
/** Idle-memory phase: this many idle clients on a fresh server process. */
const IDLE_N = QUICK ? 1_000 : 5_000;
const JOBS = ["bench-a", "bench-b", "bench-c", "bench-d"];
const benchStart = Date.now();
/** Each server's scenario-1 sweep (and each scenario-2 edge) stops starting measurements after this long, so the whole run stays near 6 minutes. */
const SWEEP_BUDGET_MS = QUICK ? 30_000 : 60_000;
const EDGE_BUDGET_MS = QUICK ? 20_000 : 35_000;

type Target = "trawl" | "bare" | "sio";
type Edge = "ws" | "sio" | "sio-trawl" | "trpc";
const TARGET_NAMES: Record<Target, string> = { trawl: "Trawl /ws/scraping", bare: "bare ws", sio: "Socket.IO 4 room" };

interface Ran {
  t0: number;
  t1: number;
  counts: { started: number; progress: number; itemScraped: number; completed: number };
}
type Report = LoadReport;
interface Row {
  target: string;
  edge: Edge;
  n: number;
  rate: number;
  expected: number;
  delivered: number;
  fraction: number;
  minFraction: number;
  p50: number;
  p99: number;
  max: number;
  cpu: number;
  rssMb: number;
  loadGenCpu: number;
  /** Server CPU microseconds per delivered message. */
  usPerMsg: number;
  ok: boolean;
}

const log = (line: string) => process.stderr.write(`[fanout ${((Date.now() - benchStart) / 1000).toFixed(0)}s] ${line}\n`);

/** Frames one client should receive for a run, per edge (seed 004 sends no message for itemScraped). */
function expectedFrames(edge: Edge, counts: Ran["counts"]): number {
  const base = counts.started + counts.progress + counts.completed;
  return edge === "sio-trawl" ? base : base + counts.itemScraped;
}

async function settle(loadGen: LoadGroup, expected: number): Promise<Report> {
  let last = -1;
  let report = await loadGen.report();
  // Wait while messages still arrive (a lagging server drains its backlog), at most 5 s.
  for (let i = 0; i < 20; i++) {
    if (report.minPerClient >= expected || report.received === last) break;
    last = report.received;
    await sleep(250);
    report = await loadGen.report();
  }
  return report;
}

async function measure(scraper: Child, loadGen: LoadGroup, serverPid: number, target: string, edge: Edge, n: number, rate: number, jobs = JOBS, finish = false, windowMs = WINDOW_MS): Promise<Row> {
  const t0 = Date.now();
  await loadGen.measure(t0);
  const cpu0 = cpuSeconds(serverPid);
  const lg0 = loadGen.cpuSeconds();
  scraper.send({ cmd: "run", rate, durationMs: windowMs, jobs, finish });
  const ran = await scraper.next<Ran>("ran", windowMs + 30_000);
  const cpu1 = cpuSeconds(serverPid);
  const lg1 = loadGen.cpuSeconds();
  const seconds = (ran.t1 - t0) / 1000;
  const expected = expectedFrames(edge, ran.counts);
  const report = await settle(loadGen, expected);
  const fraction = report.received / Math.max(1, expected * report.healthy);
  const minFraction = report.minPerClient / Math.max(1, expected);
  const row: Row = {
    target,
    edge,
    n: report.healthy,
    rate,
    expected,
    // Over the emission window, or until the last message arrived if delivery lagged behind it.
    delivered: report.received / ((Math.max(ran.t1, report.lastAt) - ran.t0) / 1000),
    fraction,
    minFraction,
    p50: report.p50,
    p99: report.p99,
    max: report.max,
    cpu: (cpu1 - cpu0) / seconds,
    rssMb: rssKb(serverPid) / 1024,
    loadGenCpu: (lg1 - lg0) / seconds,
    usPerMsg: ((cpu1 - cpu0) * 1e6) / Math.max(1, report.received),
    ok: minFraction >= 0.999 && report.p99 <= 250,
  };
  log(`${target} ${edge} N=${row.n} R=${rate}: ${fmtRow(row)}`);
  return row;
}

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const fmtRow = (r: Row) =>
  `delivered ${fmt(r.delivered)}/s, ${fmt(r.fraction * 100, 2)}% (min client ${fmt(r.minFraction * 100, 2)}%), p50 ${r.p50} p99 ${r.p99} max ${r.max} ms, CPU ${fmt(r.cpu * 100)}% (${fmt(r.usPerMsg, 2)} µs/msg), RSS ${fmt(r.rssMb)} MB, loadgen CPU ${fmt(r.loadGenCpu * 100)}%`;

interface TargetResult {
  rows: Row[];
  memPerConnKb: Record<number, number>;
  sustainable: number;
  idleRss: Record<number, number>;
}

/** Scenario 1 against one server: connect N clients stepwise, run the rates at each N. */
async function fanout(scraper: Child, target: Target, url: string, serverPid: number, edge: Edge, clientCounts: number[], label = TARGET_NAMES[target], budgetMs = SWEEP_BUDGET_MS): Promise<TargetResult> {
  const deadline = Date.now() + budgetMs;
  const overBudget = () => Date.now() > deadline;
  const loadGen = await startLoadGroup(LOAD_GENERATORS);
  const result: TargetResult = { rows: [], memPerConnKb: {}, sustainable: 0, idleRss: {} };
  try {
    await sleep(500);
    const rss0 = rssKb(serverPid);
    let connected = 0;
    let collapsedAt = Number.POSITIVE_INFINITY;
    for (const [index, n] of clientCounts.entries()) {
      if (overBudget()) {
        log(`${label}: time budget reached, skipping N=${n}`);
        break;
      }
      const answer = await loadGen.connect(edge, url, n - connected, JOBS);
      connected = answer.ok;
      log(`${label}: ${connected} clients connected (${answer.failed} failed) in ${answer.ms} ms`);
      await sleep(1_000);
      result.idleRss[connected] = rssKb(serverPid);
      result.memPerConnKb[connected] = (result.idleRss[connected]! - rss0) / connected;
      // One unmeasured second first, for every server alike: JIT warm-up, and a tRPC subscriber's first event (its handoff).
      await measure(scraper, loadGen, serverPid, label, edge, connected, RATE_STEPS[0]!, JOBS, false, 1_000);
      const rates = index === 0 ? RATE_STEPS : GRID_RATES;
      let passing = index === 0;
      for (const rate of rates) {
        // Beyond the first N, a rate that failed with fewer clients is not retried (the lowest rate always runs).
        if (index > 0 && rate > rates[0]! && rate >= collapsedAt) {
          log(`${label}: skipping R=${rate} at N=${connected} (failed at R=${collapsedAt} with fewer clients)`);
          continue;
        }
        if (overBudget()) break;
        const row = await measure(scraper, loadGen, serverPid, label, edge, connected, rate);
        result.rows.push(row);
        // The sustainable rate: the highest R of the unbroken run of passing steps at the first N.
        if (passing && row.ok) result.sustainable = rate;
        else passing = false;
        const collapsed = row.fraction < 0.5 || row.p99 > 5_000;
        if (!row.ok) collapsedAt = Math.min(collapsedAt, rate);
        // At the first N keep stepping past the first failure only up to the grid rates.
        if (collapsed || (index === 0 && !row.ok && rate >= GRID_RATES[GRID_RATES.length - 1]!)) break;
      }
      if (answer.failed > n / 10) break;
    }
  } finally {
    await loadGen.close();
  }
  return result;
}

interface SlowResult {
  label: string;
  row: Row;
  rssTimeline: number[];
  slow: Report["slow"];
  expected: number;
}

/** Scenario 3: 10% of clients stop reading during a run that ends with every job's terminal event. */
async function slowConsumers(scraper: Child, label: string, url: string, serverPid: number, n: number, rate: number, jobs: string[]): Promise<SlowResult> {
  const loadGen = await startLoadGroup(LOAD_GENERATORS);
  try {
    await loadGen.connect("ws", url, n, []);
    await loadGen.pause(0.1);
    const timeline: number[] = [];
    const sampler = setInterval(() => timeline.push(Math.round(rssKb(serverPid) / 1024)), 1_000);
    let row: Row;
    try {
      row = await measure(scraper, loadGen, serverPid, label, "ws", n, rate, jobs, true, SLOW_WINDOW_MS);
    } finally {
      clearInterval(sampler);
    }
    // Let the slow clients read again and see what they were owed: conflated progress, terminal frames, or a close.
    await loadGen.resume();
    await sleep(3_000);
    const report = await loadGen.report();
    return { label, row, rssTimeline: timeline, slow: report.slow, expected: row.expected };
  } finally {
    await loadGen.close();
  }
}

/** Memory per idle connection: RSS delta / N after N idle clients connect to a fresh server (no events flowing). */
async function idleMemory(pid: number, url: string, edge: Edge, label: string): Promise<number> {
  const loadGen = await startLoadGroup(LOAD_GENERATORS);
  try {
    await sleep(1_000);
    const rss0 = rssKb(pid);
    const answer = await loadGen.connect(edge, url, IDLE_N, []);
    await sleep(2_000);
    const perConn = (rssKb(pid) - rss0) / Math.max(1, answer.ok);
    log(`${label}: ${answer.ok} idle clients (${answer.failed} failed, ${answer.ms} ms to connect): ${fmt(perConn, 1)} KB RSS each`);
    return perConn;
  } finally {
    await loadGen.close();
  }
}

// ---- printing ----------------------------------------------------------------
function table(headers: string[], rows: Array<Array<string | number>>): string {
  return [`| ${headers.join(" | ")} |`, `|${headers.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}
const ratio = (a: number, b: number, digits = 2) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(digits)}×` : "–");
const rowCells = (r: Row) => [r.target, r.n, r.rate, fmt(r.delivered), `${fmt(r.fraction * 100, 2)}%`, `${fmt(r.minFraction * 100, 2)}%`, r.p50, r.p99, r.max, `${fmt(r.cpu * 100)}%`, fmt(r.usPerMsg, 2), fmt(r.rssMb), `${fmt(r.loadGenCpu * 100)}%`, r.ok ? "yes" : "no"];
const ROW_HEADERS = ["server", "N", "R/s", "delivered msg/s", "delivered", "worst client", "p50 ms", "p99 ms", "max ms", "server CPU", "server µs/msg", "RSS MB", "loadgen CPU", "≤250ms & ≥99.9%"];

async function main(): Promise<void> {
  log(`fd limit ${process.env.FANOUT_ULIMIT}; window ${WINDOW_MS} ms per measurement; N ${CLIENT_COUNTS.join(", ")}`);
  const scraper = await startChild("synthetic-scraper");
  const address = String(scraper.ready.address);
  // Register the jobs (their JobStarted) before any server watches, so Socket.IO subscribers can find them.
  scraper.send({ cmd: "run", rate: 1, durationMs: 0, jobs: JOBS });
  await scraper.next("ran");
  const results: Partial<Record<Target, TargetResult>> = {};
  const idleKb: Partial<Record<Target, number>> = {};
  const edges: Row[][] = [];
  const slow: SlowResult[] = [];
  let profileNote = "";

  const profileDir = process.env.FANOUT_CPU_PROF;
  // FANOUT_CPU_PROF=<dir>: profile the gateway (written when it exits); it costs some CPU, so not for the figures.
  const profiler = fileURLToPath(new URL("./cpu-profile.cjs", import.meta.url));
  const gatewayEnv: Record<string, string> = profileDir === undefined ? {} : { NODE_OPTIONS: `--require ${profiler}`, CPU_PROFILE_DIR: profileDir };
  const BASELINES = [["bare", "baseline-ws-server"], ["sio", "baseline-socketio-server"]] as const;

  // ---- scenario 1 and idle memory: Trawl, then each baseline, each on a fresh process ----
  let gateway: GatewayProcess;
  if (ONLY.has("idle")) {
    // FANOUT_ONLY=idle: memory per idle connection alone, three fresh processes per server.
    for (let run = 1; run <= 3; run++) {
      gateway = await startGateway([address], gatewayEnv);
      try {
        log(`idle run ${run}: Trawl ${fmt(await idleMemory(gateway.pid, gateway.wsUrl, "ws", TARGET_NAMES.trawl), 1)} KB`);
      } finally {
        await gateway.stop();
      }
      const bare = await startChild("baseline-ws-server", [address]);
      try {
        log(`idle run ${run}: bare ${fmt(await idleMemory(bare.pid, String(bare.ready.url), "ws", TARGET_NAMES.bare), 1)} KB`);
      } finally {
        await bare.kill();
      }
    }
  }
  if (ONLY.has("trawl")) {
    gateway = await startGateway([address], gatewayEnv);
    try {
      idleKb.trawl = await idleMemory(gateway.pid, gateway.wsUrl, "ws", TARGET_NAMES.trawl);
      results.trawl = await fanout(scraper, "trawl", gateway.wsUrl, gateway.pid, "ws", CLIENT_COUNTS);
    } finally {
      await gateway.stop();
    }
  }
  for (const [target, module] of BASELINES) {
    if (!ONLY.has(target)) continue;
    const server = await startChild(module, [address]);
    try {
      idleKb[target] = await idleMemory(server.pid, String(server.ready.url), target === "sio" ? "sio" : "ws", TARGET_NAMES[target]);
      results[target] = await fanout(scraper, target, String(server.ready.url), server.pid, target === "sio" ? "sio" : "ws", CLIENT_COUNTS);
    } finally {
      await server.kill();
    }
  }

  // ---- scenarios 2 and 3 on a fresh gateway; scenario 3's bare-ws comparison after it ----
  if (ONLY.has("edges") || ONLY.has("slow")) {
    gateway = await startGateway([address], gatewayEnv);
    try {
      if (ONLY.has("edges")) {
        // Both edges at the baselines' N, so their ratios compare like with like.
        if (EDGES.has("trpc")) {
          const trpc = await fanout(scraper, "trawl", gateway.url, gateway.pid, "trpc", [QUICK ? 100 : 1_000], "Trawl tRPC events.watch", EDGE_BUDGET_MS);
          edges.push(trpc.rows);
          Object.assign(results, { trpc });
        }
        if (EDGES.has("sio-trawl")) {
          const sioTrawl = await fanout(scraper, "trawl", gateway.url, gateway.pid, "sio-trawl", [QUICK ? 100 : 1_000], "Trawl Socket.IO (seed 004)", EDGE_BUDGET_MS);
          edges.push(sioTrawl.rows);
          Object.assign(results, { sioTrawl });
        }
      }
      if (ONLY.has("slow")) slow.push(await slowConsumers(scraper, "Trawl /ws/scraping", gateway.wsUrl, gateway.pid, SLOW_N, SLOW_RATE, ["slow-a", "slow-b"]));
    } finally {
      await gateway.stop();
    }
  }
  if (profileDir !== undefined) profileNote = `gateway CPU profile written under ${profileDir}`;
  if (ONLY.has("slow")) {
    const bare = await startChild("baseline-ws-server", [address]);
    try {
      await sleep(500);
      slow.push(await slowConsumers(scraper, "bare ws", String(bare.ready.url), bare.pid, SLOW_N, SLOW_RATE, ["slow-c", "slow-d"]));
    } finally {
      await bare.kill();
    }
  }
  await scraper.kill();

  // ---- report ------------------------------------------------------------------
  const out: string[] = [];
  out.push(`## Fan-out benchmark — ${new Date().toISOString()}`);
  out.push(`Machine: ${process.arch}, ${(await import("node:os")).cpus().length} CPUs, Node ${process.version}. Window ${WINDOW_MS / 1000} s per measurement; load generator, scraper and server are separate processes on the same machine.`);
  out.push("\n### Scenario 1 — fan-out on /ws/scraping");
  out.push(table(ROW_HEADERS, (["trawl", "bare", "sio"] as const).flatMap((t) => results[t]?.rows ?? []).map(rowCells)));
  out.push("\n### Sustainable rate (N = first step) and memory per idle connection");
  const sust = (t: Target) => results[t]?.sustainable ?? Number.NaN;
  const mem = (t: Target) => idleKb[t] ?? Number.NaN;
  const memN = () => IDLE_N;
  out.push(
    table(
      ["server", `sustainable R at N=${CLIENT_COUNTS[0]}`, "KB RSS per idle conn (fresh process)", "(idle N)"],
      (["trawl", "bare", "sio"] as const).map((t) => [TARGET_NAMES[t], sust(t) || "< 20", fmt(mem(t), 1), memN()]),
    ),
  );
  out.push("\n### Trawl as a ratio to each baseline (same N, R)");
  const ratioRows: Array<Array<string | number>> = [];
  for (const r of results.trawl?.rows ?? []) {
    const bare = results.bare?.rows.find((b) => b.n === r.n && b.rate === r.rate);
    const sio = results.sio?.rows.find((b) => b.n === r.n && b.rate === r.rate);
    ratioRows.push([r.n, r.rate, ratio(r.delivered, bare?.delivered ?? NaN), ratio(r.delivered, sio?.delivered ?? NaN), ratio(Math.max(1, r.p99), bare === undefined ? NaN : Math.max(1, bare.p99)), ratio(Math.max(1, r.p99), sio === undefined ? NaN : Math.max(1, sio.p99)), ratio(r.cpu, bare?.cpu ?? NaN), ratio(r.cpu, sio?.cpu ?? NaN)]);
  }
  ratioRows.push(["sustainable", "", ratio(sust("trawl"), sust("bare")), ratio(sust("trawl"), sust("sio")), "", "", "", ""]);
  ratioRows.push(["KB/idle conn", "", ratio(mem("trawl"), mem("bare")), ratio(mem("trawl"), mem("sio")), "", "", "", ""]);
  out.push(table(["N", "R/s", "delivered Trawl/bare", "delivered Trawl/SIO", "p99 Trawl/bare", "p99 Trawl/SIO", "CPU Trawl/bare", "CPU Trawl/SIO"], ratioRows));
  out.push("\n### Cost curve — server CPU against offered load (clients × events/s), rows that kept up (≥ 99.9 %)");
  const curveRows = (["trawl", "bare", "sio"] as const).flatMap((t) =>
    (results[t]?.rows ?? [])
      .filter((r) => r.minFraction >= 0.999)
      .sort((a, b) => a.n * a.rate - b.n * b.rate)
      .map((r) => [r.target, r.n * r.rate, r.n, r.rate, `${fmt(r.cpu * 100)}%`, fmt(r.usPerMsg, 2), fmt((r.cpu * 100) / ((r.n * r.rate) / 100_000), 1)]),
  );
  out.push(table(["server", "offered msg/s (N × R)", "N", "R/s", "server CPU", "µs per delivered msg", "CPU % per 100k msg/s"], curveRows));
  out.push("(Linear cost = constant CPU per 100k msg/s; falling = batching paying off as events share a write.)");
  out.push("\n### Scenario 2 — the same stream through Trawl's other edges");
  out.push(table(ROW_HEADERS, edges.flat().map(rowCells)));
  // As for the main targets: the highest R of the unbroken run of passing steps.
  const edgeSust = (result: TargetResult | undefined) => result?.sustainable ?? 0;
  const trpcRes = (results as Record<string, TargetResult>).trpc;
  const sioTrawlRes = (results as Record<string, TargetResult>).sioTrawl;
  out.push(
    table(
      ["edge", "N", "sustainable R", "vs bare ws (N=1000)", "vs Socket.IO 4 (N=1000)", "KB RSS per conn (connect delta on the warm gateway)"],
      [
        ["tRPC events.watch", trpcRes?.rows[0]?.n ?? "–", edgeSust(trpcRes) || "< 20", ratio(edgeSust(trpcRes), sust("bare")), ratio(edgeSust(trpcRes), sust("sio")), fmt(Object.values(trpcRes?.memPerConnKb ?? {})[0] ?? NaN, 1)],
        ["Socket.IO seed 004", sioTrawlRes?.rows[0]?.n ?? "–", edgeSust(sioTrawlRes) || "< 20", ratio(edgeSust(sioTrawlRes), sust("bare")), ratio(edgeSust(sioTrawlRes), sust("sio")), fmt(Object.values(sioTrawlRes?.memPerConnKb ?? {})[0] ?? NaN, 1)],
      ],
    ),
  );
  out.push("\n### Scenario 3 — 10% slow consumers (paused sockets)");
  out.push(
    table(
      ["server", "N", "R/s", "healthy delivered", "healthy p50/p99/max ms", "server RSS MB each second", "slow clients: frames got / expected each", "slow: terminal frames", "slow: closed"],
      slow.map((s) => [
        s.label,
        s.row.n + s.slow.clients,
        s.row.rate,
        `${fmt(s.row.minFraction * 100, 2)}% (worst)`,
        `${s.row.p50}/${s.row.p99}/${s.row.max}`,
        s.rssTimeline.join(" → "),
        `${fmt(s.slow.received / Math.max(1, s.slow.clients))} / ${s.expected}`,
        `${s.slow.terminal} of ${s.slow.clients * 2}`,
        s.slow.closed,
      ]),
    ),
  );
  if (profileNote !== "") out.push(`\n${profileNote}`);
  out.push(`\nTotal time ${((Date.now() - benchStart) / 1000).toFixed(0)} s.`);
  process.stdout.write(`${out.join("\n")}\n`);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
const hardStop = setTimeout(() => {
  log("hard time limit (9 min) reached; stopping");
  process.exit(2);
}, 9 * 60_000);
hardStop.unref();
main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
