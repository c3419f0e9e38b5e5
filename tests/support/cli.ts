/**
 * Runs the built `trawl` command (`node services/cli/dist/main.js`) as a
 * real child process with pipes for stdio (so never a TTY), against a
 * gateway named by TRAWL_GATEWAY: to completion (`run`), or in the
 * background for commands that follow a job (`spawn`), with waits on what
 * it has printed so far.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";
import { REPO_ROOT } from "./processes.js";
import { waitFor, type WaitOptions } from "./wait.js";

export const CLI_MAIN = fileURLToPath(new URL("../../services/cli/dist/main.js", import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout as bytes, for byte-for-byte comparisons. */
  readonly stdoutBytes: Buffer;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Replaces TRAWL_GATEWAY (undefined: leave it unset). */
  readonly gateway?: string;
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
}

/** A running `trawl` process. */
export class CliProcess {
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  readonly exited: Promise<CliResult>;

  constructor(
    readonly args: readonly string[],
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on("data", (chunk: Buffer) => this.out.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => this.err.push(chunk));
    this.exited = new Promise((resolve, reject) => {
      child.once("error", reject);
      // 'close', not 'exit': all output has been read by then.
      child.once("close", (code, signal) => resolve({ code, signal, ...this.output() }));
    });
  }

  output(): { stdoutBytes: Buffer; stdout: string; stderr: string } {
    const stdoutBytes = Buffer.concat(this.out);
    return { stdoutBytes, stdout: stdoutBytes.toString("utf8"), stderr: Buffer.concat(this.err).toString("utf8") };
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits until stderr matches `pattern`; fails early if the process exits first. */
  async waitForStderr(pattern: RegExp, options: WaitOptions = {}): Promise<string> {
    return waitFor(
      `trawl ${this.args.join(" ")}: stderr matching ${pattern}`,
      () => {
        const { stderr } = this.output();
        if (pattern.test(stderr)) return stderr;
        if (!this.running) throw new Error(`exited before printing it (code ${this.child.exitCode})`);
        return undefined;
      },
      { detail: () => this.describe(), ...options },
    );
  }

  /** Ctrl-C. */
  interrupt(): void {
    this.child.kill("SIGINT");
  }

  kill(): void {
    if (this.running) this.child.kill("SIGKILL");
  }

  describe(): string {
    const { stdout, stderr } = this.output();
    return `--- trawl ${this.args.join(" ")} ---\nstdout (last 2000 chars):\n${stdout.slice(-2000)}\nstderr (last 2000 chars):\n${stderr.slice(-2000)}`;
  }
}

function environment(options: CliOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.TRAWL_GATEWAY;
  delete env.TRAWL_DEBUG;
  if (options.gateway !== undefined) env.TRAWL_GATEWAY = options.gateway;
  return env;
}

/** Starts `trawl args…`. */
export function spawnCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} does not exist — build it first (npx turbo run build --filter=@trawl/cli...)`);
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: REPO_ROOT, env: environment(options), stdio: ["ignore", "pipe", "pipe"] });
  return new CliProcess(args, child);
}

/** Per-file helper: runs `trawl` against `gateway()` and kills whatever a test left running. */
export function useCli(gateway: () => string): {
  run(args: readonly string[], options?: CliOptions): Promise<CliResult>;
  spawn(args: readonly string[], options?: CliOptions): CliProcess;
} {
  const live = new Set<CliProcess>();
  afterEach(() => {
    for (const cli of live) cli.kill();
    live.clear();
  });
  const start = (args: readonly string[], options: CliOptions = {}): CliProcess => {
    const cli = spawnCli(args, { gateway: gateway(), ...options });
    live.add(cli);
    void cli.exited.then(
      () => live.delete(cli),
      () => live.delete(cli),
    );
    return cli;
  };
  return {
    spawn: start,
    /** Runs to completion (bounded: a hung command is killed after 90 s and fails the test). */
    async run(args, options) {
      const cli = start(args, options);
      const timer = setTimeout(() => cli.kill(), 90_000);
      try {
        return await cli.exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
