/** Hash routes: `#/` overview, `#/jobs` history, `#/jobs/<id>` one job. */

export type Route = { name: "overview" } | { name: "history" } | { name: "job"; id: string } | { name: "not-found"; hash: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "");
  if (path === "" || path === "/") return { name: "overview" };
  if (path === "/jobs" || path === "/jobs/") return { name: "history" };
  const job = /^\/jobs\/([^/]+)\/?$/.exec(path);
  if (job?.[1] !== undefined) return { name: "job", id: decodeURIComponent(job[1]) };
  return { name: "not-found", hash };
}

export function jobHref(id: string): string {
  return `#/jobs/${encodeURIComponent(id)}`;
}
