/** Every subcommand, in the order `trawl --help` lists them. */
import type { Command } from "../command.js";
import { cancelCommand } from "./cancel.js";
import { exportCommand } from "./export.js";
import { followCommand } from "./follow.js";
import { getCommand } from "./get.js";
import { listCommand } from "./list.js";
import { pauseCommand } from "./pause.js";
import { resumeCommand } from "./resume.js";
import { scanCommand } from "./scan.js";
import { startCommand } from "./start.js";
import { watchCommand } from "./watch.js";

export const COMMANDS: readonly Command[] = [
  startCommand,
  scanCommand,
  watchCommand,
  listCommand,
  getCommand,
  pauseCommand,
  resumeCommand,
  cancelCommand,
  followCommand,
  exportCommand,
];
