/**
 * The built web dashboard (`web/dist`), served at `/` so that `npm start`
 * is all a user runs. Vite names assets by content hash, so they are cached
 * for good; `index.html` is revalidated so a rebuilt dashboard shows at once.
 * When the dashboard has not been built, `/` says so as JSON instead of a
 * bare 404.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import express, { type RequestHandler, Router } from "express";

export function dashboardRouter(dir: string): Router {
  const router = Router();
  router.use(
    express.static(dir, {
      index: "index.html",
      fallthrough: true,
      setHeaders(res, path) {
        res.setHeader("Cache-Control", path.includes(`${join("assets", "")}`) ? "public, max-age=31536000, immutable" : "no-cache");
      },
    }),
  );
  const notBuilt: RequestHandler = (_req, res, next) => {
    if (existsSync(join(dir, "index.html"))) return next();
    res.status(503).json({ error: "unavailable", field: null, message: `the dashboard is not built (no ${join(dir, "index.html")}): run npm run build` });
  };
  router.get("/", notBuilt);
  return router;
}
