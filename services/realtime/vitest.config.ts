// The shared settings of the services' suites: ../../vitest.services.ts.
export { default } from "../../vitest.services.js";
