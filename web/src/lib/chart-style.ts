/** Axis and grid styling both colour schemes can read (uPlot draws on a canvas, without CSS variables). */
import type uPlot from "uplot";

export const AXIS_STROKE = "#8a94a3";
export const GRID_STROKE = "rgba(138, 148, 163, 0.18)";
export const ACCENT = "#3b82f6";
export const BAD = "#ef4444";

export function axis(overrides: uPlot.Axis = {}): uPlot.Axis {
  return {
    stroke: AXIS_STROKE,
    grid: { stroke: GRID_STROKE, width: 1 },
    ticks: { stroke: GRID_STROKE, width: 1 },
    font: "11px system-ui, sans-serif",
    ...overrides,
  };
}
