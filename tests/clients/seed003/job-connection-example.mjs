// Seed 003's first "Connection Example" (Job Progress WebSocket), run by
// tests/e2e/seed003.test.ts with Node:
//   node job-connection-example.mjs <gateway ws url> <job id>
//
// ---- shim: Node 20 has no global WebSocket; `ws` offers the same interface ----
import WebSocket from "ws";
const [, , gatewayWsUrl, trawlJobId] = process.argv;
// ---- the seed's example, verbatim apart from the URL and the job id ----

const ws = new WebSocket(`${gatewayWsUrl}/ws/${trawlJobId}`);

ws.onopen = () => {
    console.log('Connected to job progress');
};

ws.onmessage = (event) => {
    const data = JSON.parse(event.data);
    console.log('Progress update:', data);
};

// ---- shim: a page keeps the socket until it is closed; here the job's end closes it ----
ws.addEventListener('message', (event) => {
    if (JSON.parse(event.data).type === 'job_completed') ws.close(1000);
});
