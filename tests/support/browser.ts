/**
 * Driving the built dashboard (web/dist, served by the gateway at `/`) in
 * headless Chromium through playwright-core, against the real stack.
 *
 * - Finding Chromium: a missing browser skips the browser suites with a
 *   warning on a developer's machine, and fails them under `CI=true`, so a
 *   CI image without it can never pass by testing nothing.
 * - One stack + one browser per test file; every test opens fresh pages
 *   (own context, 1280x900) that are closed after it.
 * - On failure: a screenshot of every open page, the page's console errors,
 *   uncaught page errors, its visible text and the processes' log tails go
 *   to the test output. An uncaught page error fails the test by itself.
 * - Readers that turn the UI contract's data-testids into plain values, so
 *   tests wait on conditions over those values (never on durations).
 *
 * The tests' tsconfig has no DOM lib: in-page callbacks touch elements only
 * through the small `DomElement` shape below.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Download, type Locator, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import { REPO_ROOT } from "./processes.js";
import { getJson } from "./http.js";
import { type Stack, type StackOptions, startStack } from "./stack.js";
import { waitFor, type WaitOptions } from "./wait.js";

/** The Chromium binary: Debian's package by default, `TRAWL_CHROMIUM` to use another. */
export const CHROMIUM_PATH = process.env.TRAWL_CHROMIUM !== undefined && process.env.TRAWL_CHROMIUM !== "" ? process.env.TRAWL_CHROMIUM : "/usr/bin/chromium";

/** Headless, and nothing that phones home or updates itself during a run. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** The built dashboard the gateway serves (its DASHBOARD_DIR default). */
export const DASHBOARD_DIR = join(REPO_ROOT, "web", "dist");

export const VIEWPORT = { width: 1280, height: 900 } as const;

/** Where failure screenshots go (printed with the failure). */
export const FAILURE_DIR = process.env.TRAWL_BROWSER_ARTIFACTS ?? join(tmpdir(), "trawl-browser-failures");

const IS_CI = /^(true|1)$/i.test(process.env.CI ?? "");

export function chromiumMissingMessage(): string {
  return (
    `Chromium is missing: no executable at ${CHROMIUM_PATH}. The browser suite needs it: ` +
    `install it with \`apt-get install -y chromium\` (Debian/Ubuntu), or point TRAWL_CHROMIUM at a Chromium binary.`
  );
}

export interface ChromiumGate {
  /** True only off CI with no Chromium: the suite is skipped (with a warning). */
  readonly skip: boolean;
  /** Why Chromium cannot be used, when it cannot. */
  readonly missing: string | undefined;
}

/**
 * Whether a browser suite runs: `describe.skipIf(chromiumGate().skip)`.
 * Under CI a missing Chromium does not skip — `useBrowserStack`'s beforeAll
 * then fails every test with `chromiumMissingMessage()`.
 */
export function chromiumGate(): ChromiumGate {
  if (existsSync(CHROMIUM_PATH)) return { skip: false, missing: undefined };
  const missing = chromiumMissingMessage();
  if (IS_CI) return { skip: false, missing };
  console.warn(`[browser suite] SKIPPED: ${missing} (under CI=true this is a failure)`);
  return { skip: true, missing };
}

/** Throws a message that says what to do when Chromium or the built dashboard is missing. */
export function assertBrowserPrerequisites(): void {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(chromiumMissingMessage());
  const index = join(DASHBOARD_DIR, "index.html");
  if (!existsSync(index)) {
    throw new Error(
      `The dashboard is not built: ${index} is missing. Build it first (\`npx turbo run build\` at the repo root, ` +
        `or \`npm run build --workspace @trawl/web\`); turbo's test task does this through ^build.`,
    );
  }
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(chromiumMissingMessage());
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
}

/** A port nothing listens on right now (listen on 0, read it, close): for a gateway that must come back on the same origin. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

/** Fails unless the gateway answers `/` with the built index.html. */
export async function assertGatewayServesDashboard(gatewayUrl: string): Promise<void> {
  const expected = readFileSync(join(DASHBOARD_DIR, "index.html"), "utf8");
  const response = await fetch(`${gatewayUrl}/`);
  const body = await response.text();
  if (response.status !== 200 || body !== expected) {
    throw new Error(
      `The gateway at ${gatewayUrl} does not serve the built dashboard at / ` +
        `(status ${response.status}, ${response.headers.get("content-type") ?? "no content-type"}, body starts ${JSON.stringify(body.slice(0, 120))}); ` +
        `it should serve DASHBOARD_DIR=${DASHBOARD_DIR}.`,
    );
  }
}

/** A page the suite opened, with what its console said. */
export interface OpenedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** console.error messages (e.g. a refused WebSocket while the gateway restarts). */
  readonly consoleErrors: string[];
  /** Uncaught exceptions and unhandled rejections in the page: each fails the test. */
  readonly pageErrors: string[];
}

export interface BrowserSuite {
  readonly stack: Stack;
  readonly browser: Browser;
  /** The dashboard's origin ("http://127.0.0.1:PORT"). */
  readonly origin: string;
  /** Opens the dashboard at a hash route (`"/"`, `"/jobs"`, `"/jobs/<id>"`) in a fresh context. */
  open(route?: string): Promise<Page>;
  /** The record of a page `open` returned. */
  opened(page: Page): OpenedPage;
}

export interface BrowserSuiteOptions {
  readonly stack?: StackOptions;
  /**
   * Run the gateway on a port picked here instead of an ephemeral one, so a
   * `stack.restartGateway()` comes back on the same origin and the open
   * page can reconnect to it.
   */
  readonly fixedGatewayPort?: boolean;
}

/** The dashboard URL of a hash route. */
export function dashboardUrl(origin: string, route = "/"): string {
  return `${origin}/#${route.startsWith("/") ? route : `/${route}`}`;
}

/**
 * One stack and one Chromium per test file (call inside the file's
 * `describe.skipIf(chromiumGate().skip)`), with pages per test and failure
 * diagnostics.
 */
export function useBrowserStack(options: BrowserSuiteOptions = {}): BrowserSuite {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  const pages: OpenedPage[] = [];

  beforeAll(async () => {
    assertBrowserPrerequisites();
    const gatewayEnv: Record<string, string> = { DASHBOARD_DIR, ...options.stack?.gatewayEnv };
    if (options.fixedGatewayPort === true) gatewayEnv.GATEWAY_PORT = String(await freePort());
    stack = await startStack({ ...options.stack, gatewayEnv });
    await assertGatewayServesDashboard(stack.gateway.url);
    browser = await launchChromium();
  });

  afterEach(async (context) => {
    const open = pages.splice(0);
    const failed = context.task.result?.state === "fail";
    if (failed) {
      const report = await Promise.all(open.map((opened, index) => describeFailure(opened, `${context.task.name}-${index}`)));
      process.stderr.write(`\n[${context.task.name}] browser diagnostics:\n${report.join("\n")}\n`);
      if (stack) process.stderr.write(`[${context.task.name}] process logs:\n${stack.diagnostics()}\n`);
    }
    await Promise.allSettled(open.map((opened) => opened.context.close()));
    const uncaught = open.flatMap((opened) => opened.pageErrors);
    if (!failed && uncaught.length > 0) throw new Error(`the dashboard threw uncaught errors:\n${uncaught.join("\n")}`);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const suite: BrowserSuite = {
    get stack(): Stack {
      if (!stack) throw new Error("stack not started");
      return stack;
    },
    get browser(): Browser {
      if (!browser) throw new Error("browser not launched");
      return browser;
    },
    get origin(): string {
      return suite.stack.gateway.url;
    },
    async open(route = "/") {
      const context = await suite.browser.newContext({ viewport: VIEWPORT, acceptDownloads: true });
      const page = await context.newPage();
      const opened: OpenedPage = { page, context, consoleErrors: [], pageErrors: [] };
      pages.push(opened);
      page.on("console", (message) => {
        if (message.type() !== "error") return;
        const where = message.location().url;
        opened.consoleErrors.push(where === "" ? message.text() : `${message.text()} (${where})`);
      });
      page.on("pageerror", (error) => opened.pageErrors.push(error.stack ?? error.message));
      // A confirm() before cancelling is fine UI; the tests mean yes.
      page.on("dialog", (dialog) => void dialog.accept());
      await page.goto(dashboardUrl(suite.origin, route));
      return page;
    },
    opened(page) {
      const found = pages.find((opened) => opened.page === page);
      if (!found) throw new Error("not a page this suite opened");
      return found;
    },
  };
  return suite;
}

/** Screenshot + console + visible text of a page, as text for the test output. */
export async function describeFailure(opened: OpenedPage, name: string): Promise<string> {
  const lines = [`--- page ${opened.page.url()} ---`];
  try {
    mkdirSync(FAILURE_DIR, { recursive: true });
    const path = join(FAILURE_DIR, `${name.replace(/[^a-z0-9]+/gi, "-").slice(0, 120)}-${Date.now()}.png`);
    await opened.page.screenshot({ path, fullPage: true, timeout: 10_000 });
    lines.push(`screenshot: ${path}`);
  } catch (error) {
    lines.push(`screenshot failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  lines.push(`console errors (${opened.consoleErrors.length}):`, ...opened.consoleErrors.slice(-30).map((line) => `  ${line}`));
  lines.push(`page errors (${opened.pageErrors.length}):`, ...opened.pageErrors.slice(-10).map((line) => `  ${line}`));
  try {
    const text = await opened.page.locator("body").innerText({ timeout: 5_000 });
    lines.push("visible text:", text.slice(0, 3_000));
  } catch (error) {
    lines.push(`no visible text: ${error instanceof Error ? error.message : String(error)}`);
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------
// Readers: the contract's data-testids as plain values.

/** The little of the DOM the in-page readers use (no DOM lib in this tsconfig). */
interface DomElement {
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  matches(selector: string): boolean;
  closest(selector: string): DomElement | null;
  readonly textContent: string | null;
  readonly childNodes: ArrayLike<DomElement>;
  /** 3 for a text node. */
  readonly nodeType: number;
  readonly nodeValue: string | null;
  readonly tagName: string;
}

/** `[data-testid="id"]` */
export const tid = (id: string): string => `[data-testid="${id}"]`;

export interface JobCardView {
  readonly jobId: string | null;
  readonly status: string | null;
  readonly statusText: string;
  /** `job-progress` data-done / data-total (NaN when absent). */
  readonly done: number;
  readonly total: number;
  readonly success: number;
  readonly errors: number;
  readonly elapsed: string;
  readonly rate: string;
  readonly currentItem: string;
  /** Present and not disabled. */
  readonly canPause: boolean;
  readonly canResume: boolean;
  readonly canCancel: boolean;
  readonly openHref: string | null;
}

const CARD_TEXTS = ["job-status", "job-success", "job-errors", "job-elapsed", "job-rate", "job-current-item"] as const;
const CARD_BUTTONS = ["job-pause", "job-resume", "job-cancel"] as const;

/** A number shown as text ("1,234", "12 errors"), NaN when there is none. */
export function parseShownNumber(text: string): number {
  const match = /-?\d[\d,]*/.exec(text);
  return match === null ? Number.NaN : Number(match[0].replace(/,/g, ""));
}

/** Every `job-card` under `scope`, in document order. */
export async function readJobCards(scope: Page | Locator): Promise<JobCardView[]> {
  // The in-page part only collects raw strings and declares no named functions
  // (tsx/esbuild would wrap those in a `__name` helper the page does not have).
  const raw = await scope.locator(tid("job-card")).evaluateAll(
    (cards: DomElement[], names: { texts: readonly string[]; buttons: readonly string[] }) =>
      cards.map((card) => {
        const texts: Record<string, string> = {};
        for (const id of names.texts) texts[id] = (card.querySelector(`[data-testid="${id}"]`)?.textContent ?? "").trim();
        const enabled: Record<string, boolean> = {};
        for (const id of names.buttons) {
          const button = card.querySelector(`[data-testid="${id}"]`);
          enabled[id] = button !== null && !button.matches(":disabled") && button.getAttribute("aria-disabled") !== "true";
        }
        const bar = card.querySelector('[data-testid="job-progress"]');
        return {
          jobId: card.getAttribute("data-job-id"),
          status: card.getAttribute("data-status"),
          done: bar?.getAttribute("data-done") ?? null,
          total: bar?.getAttribute("data-total") ?? null,
          openHref: card.querySelector('[data-testid="job-open"]')?.getAttribute("href") ?? null,
          texts,
          enabled,
        };
      }),
    { texts: CARD_TEXTS, buttons: CARD_BUTTONS },
  );
  return raw.map((card) => ({
    jobId: card.jobId,
    status: card.status,
    statusText: card.texts["job-status"] ?? "",
    done: card.done === null ? Number.NaN : Number(card.done),
    total: card.total === null ? Number.NaN : Number(card.total),
    success: parseShownNumber(card.texts["job-success"] ?? ""),
    errors: parseShownNumber(card.texts["job-errors"] ?? ""),
    elapsed: card.texts["job-elapsed"] ?? "",
    rate: card.texts["job-rate"] ?? "",
    currentItem: card.texts["job-current-item"] ?? "",
    canPause: card.enabled["job-pause"] === true,
    canResume: card.enabled["job-resume"] === true,
    canCancel: card.enabled["job-cancel"] === true,
    openHref: card.openHref,
  }));
}

/** The card of one job under `scope`, if shown. */
export async function readJobCard(scope: Page | Locator, jobId: string): Promise<JobCardView | undefined> {
  return (await readJobCards(scope)).find((card) => card.jobId === jobId);
}

export interface TaggedView {
  readonly jobId: string | null;
  readonly platform: string | null;
  readonly status: string | null;
  readonly text: string;
  readonly href: string | null;
}

/**
 * Elements with `testid` under `scope`: their data-job-id/-platform/-status,
 * their text (every text node, space-separated) and own or first link href.
 */
export async function readTagged(scope: Page | Locator, testid: string): Promise<TaggedView[]> {
  return scope.locator(tid(testid)).evaluateAll((elements: DomElement[]) =>
    elements.map((element) => {
      // Every text node, space-separated: textContent would run table cells and blocks together.
      const parts: string[] = [];
      const stack: DomElement[] = [element];
      for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
        if (node.nodeType === 3) parts.push(node.nodeValue ?? "");
        else for (let i = node.childNodes.length - 1; i >= 0; i--) stack.push(node.childNodes[i] as DomElement);
      }
      return {
        jobId: element.getAttribute("data-job-id"),
        platform: element.getAttribute("data-platform"),
        status: element.getAttribute("data-status"),
        text: parts.join(" ").replace(/\s+/g, " ").trim(),
        href: element.getAttribute("href") ?? element.querySelector("a[href]")?.getAttribute("href") ?? null,
      };
    }),
  );
}

export const readPreviews = (scope: Page | Locator): Promise<TaggedView[]> => readTagged(scope, "preview");
export const readErrorEntries = (scope: Page | Locator): Promise<TaggedView[]> => readTagged(scope, "error-entry");
export const readHistoryRows = (scope: Page | Locator): Promise<TaggedView[]> => readTagged(scope, "history-row");
export const readItemRows = (scope: Page | Locator): Promise<TaggedView[]> => readTagged(scope, "item-row");
export const readPlatformRows = (scope: Page | Locator): Promise<TaggedView[]> => readTagged(scope, "platform-row");

/** `connection-status`'s data-state and text. */
export async function readConnection(page: Page): Promise<{ state: string | null; text: string }> {
  const status = page.locator(tid("connection-status"));
  if ((await status.count()) === 0) return { state: null, text: "" };
  return { state: await status.getAttribute("data-state"), text: ((await status.textContent()) ?? "").trim() };
}

/** A number shown as text by `testid` (first match), NaN when absent or not a number. */
export async function readNumber(scope: Page | Locator, testid: string): Promise<number> {
  const element = scope.locator(tid(testid)).first();
  if ((await element.count()) === 0) return Number.NaN;
  return parseShownNumber((await element.textContent()) ?? "");
}

/** Whether the hash route shows a given container (e.g. "job-page"). */
export async function isShown(scope: Page | Locator, testid: string): Promise<boolean> {
  const element = scope.locator(tid(testid)).first();
  return (await element.count()) > 0 && (await element.isVisible());
}

/**
 * Polls `probe` (which reads the page) until it returns a value; on timeout
 * the error names `what` and shows `seen()` (the last value read), JSON-encoded.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, options: WaitOptions & { seen?: () => unknown } = {}): Promise<T> {
  const { seen, ...wait } = options;
  return waitFor(what, probe, {
    intervalMs: 50,
    ...wait,
    detail: () => {
      const value = seen?.();
      return `${wait.detail?.() ?? ""}${value === undefined ? "" : `last seen: ${JSON.stringify(value).slice(0, 2_000)}`}`;
    },
  });
}

/** Waits until the job's card under `scope` satisfies `accept`; returns that view. */
export async function untilCard(scope: Page | Locator, jobId: string, what: string, accept: (card: JobCardView) => boolean, options: WaitOptions = {}): Promise<JobCardView> {
  let last: JobCardView | undefined;
  return until(
    `job ${jobId}'s card: ${what}`,
    async () => {
      last = await readJobCard(scope, jobId);
      return last !== undefined && accept(last) ? last : undefined;
    },
    { ...options, seen: () => last },
  );
}

/** Clicks a download link and returns the saved file's text and the suggested file name. */
export async function downloadVia(page: Page, link: Locator): Promise<{ text: string; filename: string; download: Download }> {
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  const failure = await download.failure();
  if (failure !== null) throw new Error(`download of ${download.url()} failed: ${failure}`);
  const path = await download.path();
  return { text: readFileSync(path, "utf8"), filename: download.suggestedFilename(), download };
}

// ---------------------------------------------------------------------------
// The start form.

export type StartFormInput =
  | { readonly mode: "crawl"; readonly url: string; readonly depth?: number; readonly maxPages?: number; readonly platform?: string }
  | { readonly mode: "batch"; readonly urls: readonly string[]; readonly depth?: number; readonly maxPages?: number; readonly platform?: string }
  | { readonly mode: "scan"; readonly path: string; readonly recursive: boolean };

/** Fills the start form (mode first, then its fields) and submits it. */
export async function submitStartForm(page: Page, input: StartFormInput): Promise<void> {
  const form = page.locator(tid("start-form"));
  await form.locator(tid(`start-mode-${input.mode}`)).click();
  if (input.mode === "scan") {
    await form.locator(tid("start-path")).fill(input.path);
    await form.locator(tid("start-recursive")).setChecked(input.recursive);
  } else {
    if (input.mode === "crawl") await form.locator(tid("start-url")).fill(input.url);
    else await form.locator(tid("start-urls")).fill(input.urls.join("\n"));
    if (input.depth !== undefined) await form.locator(tid("start-depth")).fill(String(input.depth));
    if (input.maxPages !== undefined) await form.locator(tid("start-max-pages")).fill(String(input.maxPages));
    if (input.platform !== undefined) await form.locator(tid("start-platform")).selectOption(input.platform);
  }
  await form.locator(tid("start-submit")).click();
}

export type StartOutcome = { readonly jobId: string; readonly href: string | null } | { readonly error: string };

/** What the form showed after a submit: a new job's link, or `start-error`. `previousJobId` is the link shown before the submit. */
export async function startOutcome(page: Page, previousJobId?: string): Promise<StartOutcome> {
  return until("the start form's result or error", async () => {
    const error = page.locator(tid("start-error"));
    if ((await error.count()) > 0 && (await error.first().isVisible())) {
      const text = ((await error.first().textContent()) ?? "").trim();
      if (text !== "") return { error: text };
    }
    const link = page.locator(tid("start-result-link"));
    if ((await link.count()) === 0) return undefined;
    const jobId = await link.first().getAttribute("data-job-id");
    if (jobId === null || jobId === "" || jobId === previousJobId) return undefined;
    return { jobId, href: await link.first().getAttribute("href") };
  });
}

/** Submits the form and returns the started job's id (fails with the shown error otherwise). */
export async function startFromForm(page: Page, input: StartFormInput): Promise<string> {
  const link = page.locator(tid("start-result-link"));
  const previous = (await link.count()) > 0 ? ((await link.first().getAttribute("data-job-id")) ?? undefined) : undefined;
  await submitStartForm(page, input);
  const outcome = await startOutcome(page, previous);
  if ("error" in outcome) throw new Error(`the start form showed an error: ${outcome.error}`);
  return outcome.jobId;
}

// ---------------------------------------------------------------------------
// The server's side of what the page shows (REST), to compare against.

/** The fields of the gateway's JobJson the browser suites compare with. */
export interface RestJob {
  readonly job_id: string;
  readonly kind: "crawl" | "scan";
  readonly platform: string;
  readonly status: string;
  readonly urls: string[];
  readonly created_at: string;
  readonly scan: { path: string; recursive: boolean; max_files: number } | null;
  readonly counters: { pages_done: number; pages_total: number; success_count: number; error_count: number; items: number };
}

export async function restJob(origin: string, jobId: string): Promise<RestJob> {
  const response = await getJson<RestJob>(`${origin}/api/jobs/${encodeURIComponent(jobId)}`);
  if (response.status !== 200) throw new Error(`GET /api/jobs/${jobId} answered ${response.status}: ${response.text}`);
  return response.body;
}

/** Every job the gateway lists, newest first. */
export async function restJobs(origin: string): Promise<RestJob[]> {
  const response = await getJson<{ jobs: RestJob[] }>(`${origin}/api/jobs?limit=500`);
  if (response.status !== 200) throw new Error(`GET /api/jobs answered ${response.status}: ${response.text}`);
  return response.body.jobs;
}

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

export function isTerminalStatus(status: string | null | undefined): boolean {
  return status !== null && status !== undefined && TERMINAL.has(status);
}

/** Waits until the gateway reports the job finished; returns it. */
export async function untilJobFinished(origin: string, jobId: string, options: WaitOptions = {}): Promise<RestJob> {
  let last: RestJob | undefined;
  return until(
    `job ${jobId} to finish`,
    async () => {
      last = await restJob(origin, jobId);
      return isTerminalStatus(last.status) ? last : undefined;
    },
    { timeoutMs: 120_000, ...options, seen: () => last },
  );
}

/**
 * Waits until the page says it is connected. Start jobs only after this
 * when a test needs every event of them on the page: events from before the
 * page subscribed reach it only as the overview snapshot's counts.
 */
export async function untilConnected(page: Page): Promise<void> {
  let last: { state: string | null; text: string } | undefined;
  await until(
    "connection-status connected",
    async () => {
      last = await readConnection(page);
      return last.state === "connected";
    },
    { seen: () => last },
  );
}

/**
 * How full a job's `job-progress` bar is drawn: its rendered width over its
 * container's (NaN when either is missing or has no width).
 */
export async function progressFill(scope: Page | Locator, jobId: string): Promise<number> {
  const bar = scope.locator(`${tid("job-card")}[data-job-id="${jobId}"] ${tid("job-progress")}`).first();
  if ((await bar.count()) === 0) return Number.NaN;
  return bar.evaluate((element: { parentElement: { getBoundingClientRect(): { width: number } } | null; getBoundingClientRect(): { width: number } }) => {
    const outer = element.parentElement?.getBoundingClientRect().width ?? 0;
    return outer > 0 ? element.getBoundingClientRect().width / outer : Number.NaN;
  });
}
