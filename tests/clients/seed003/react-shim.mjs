// Shim for seed 003's React hook example (use-job-progress.mts): the three
// React hooks it calls, for one component instance outside a renderer.
// useState keeps the value and prints each update as a JSON line (what the
// component would re-render with); useEffect runs the effect at once and
// keeps its cleanup for `unmount`; useRef is a box. `onUpdate` lets the
// driver decide when the component goes away.
let cleanup;
let listener = () => undefined;

export function useState(initial) {
  let value = initial;
  console.log(JSON.stringify(value));
  const setValue = (next) => {
    value = typeof next === "function" ? next(value) : next;
    console.log(JSON.stringify(value));
    listener(value);
  };
  return [value, setValue];
}

export function useEffect(effect) {
  cleanup = effect() ?? undefined;
}

export function useRef(initial) {
  return { current: initial };
}

export function onUpdate(callback) {
  listener = callback;
}

export function unmount() {
  cleanup?.();
  cleanup = undefined;
}
