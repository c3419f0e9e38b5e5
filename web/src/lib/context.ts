/** Hands the live store down the component tree without a module-level singleton. */
import { getContext, setContext } from "svelte";
import type { LiveStore } from "./live-store.svelte.js";

const KEY = Symbol("trawl-live-store");

export function provideLive(store: LiveStore): void {
  setContext(KEY, store);
}

export function useLive(): LiveStore {
  const store = getContext<LiveStore | undefined>(KEY);
  if (store === undefined) throw new Error("useLive() outside the dashboard: provideLive() was not called");
  return store;
}
