/**
 * Vitest setup file: after each test file, kill any service process a
 * timed-out or crashed test left behind, so nothing outlives the run.
 */
import { afterAll } from "vitest";
import { killAllServices } from "./processes.js";

afterAll(async () => {
  await killAllServices();
});
