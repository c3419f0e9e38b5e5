import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { BroadcastWindow, type RoomBatch } from "./broadcast-window.js";

const windows: BroadcastWindow[] = [];
afterEach(() => {
  for (const window of windows.splice(0)) window.dispose();
});

function recording(windowMs: number): { window: BroadcastWindow; delivered: string[] } {
  const delivered: string[] = [];
  const window = new BroadcastWindow(windowMs, (batches: readonly RoomBatch[]) => {
    for (const { room, except, packets } of batches) delivered.push(`${room}${except.size > 0 ? ` -${[...except].join(",")}` : ""}: ${packets.map((packet) => packet.event).join(" ")}`);
  });
  windows.push(window);
  return { window, delivered };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("BroadcastWindow", () => {
  it.each([
    ["one room", [["job:a", [], "e1"], ["job:a", [], "e2"]], ["job:a: e1 e2"]],
    ["two rooms, in the order they were opened", [["job:b", [], "e1"], ["job:a", [], "e2"], ["job:b", [], "e3"]], ["job:b: e1 e3", "job:a: e2"]],
    ["an except-set apart from the whole room, whatever its order", [["job:a", [], "e1"], ["job:a", ["y", "x"], "e2"], ["job:a", ["x", "y"], "e3"]], ["job:a: e1", "job:a -y,x: e2 e3"]],
  ] as const)("groups %s", async (_name, adds, expected) => {
    const { window, delivered } = recording(0);
    for (const [room, except, event] of adds) window.add(room, except, { event, payload: {}, droppable: true });
    expect(window.size).toBe(adds.length);
    await tick();
    expect(delivered).toEqual(expected);
    expect(window.size).toBe(0);
  });

  it("sends a packet after a quiet spell at the end of its tick, and holds the next one for the rest of the window", async () => {
    const { window, delivered } = recording(200);
    window.add("job:a", [], { event: "e1", payload: {}, droppable: true });
    await tick();
    expect(delivered).toEqual(["job:a: e1"]);
    window.add("job:a", [], { event: "e2", payload: {}, droppable: true });
    await sleep(50);
    expect(delivered).toEqual(["job:a: e1"]);
    await sleep(250);
    expect(delivered).toEqual(["job:a: e1", "job:a: e2"]);
  });

  it("flush() sends at once and only once, even when reached again from inside delivery", () => {
    const delivered: string[] = [];
    const window: BroadcastWindow = new BroadcastWindow(1_000, (batches) => {
      for (const { room } of batches) delivered.push(room);
      window.flush();
    });
    windows.push(window);
    window.add("job:a", [], { event: "e1", payload: {}, droppable: false });
    window.add("job:b", [], { event: "e2", payload: {}, droppable: false });
    window.flush();
    expect(delivered).toEqual(["job:a", "job:b"]);
  });

  it("take() hands over one room's batches, whatever their except-sets, and leaves the others for the window", async () => {
    const { window, delivered } = recording(0);
    window.add("job:a", [], { event: "e1", payload: {}, droppable: true });
    window.add("job:b", [], { event: "e2", payload: {}, droppable: true });
    window.add("job:a", ["x"], { event: "e3", payload: {}, droppable: true });
    expect(window.take("job:a").map((batch) => batch.packets.map((packet) => packet.event))).toEqual([["e1"], ["e3"]]);
    await tick();
    expect(delivered).toEqual(["job:b: e2"]);
  });

  it("dispose() drops what is pending", async () => {
    const { window, delivered } = recording(0);
    window.add("job:a", [], { event: "e1", payload: {}, droppable: true });
    window.dispose();
    await tick();
    expect(delivered).toEqual([]);
  });
});
