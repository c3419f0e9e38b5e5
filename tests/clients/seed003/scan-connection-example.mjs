// Seed 003's second "Connection Example" (Directory Scan WebSocket), run by
// tests/e2e/seed003.test.ts with Node:
//   node scan-connection-example.mjs <gateway ws url> [<path>]
// Without a path it scans the seed's own '/documents'.
//
// ---- shim: Node 20 has no global WebSocket; `ws` offers the same interface ----
import WebSocket from "ws";
const [, , gatewayWsUrl, scanPath] = process.argv;
// ---- the seed's example, verbatim apart from the URL and the path ----

const scanId = crypto.randomUUID();
const ws = new WebSocket(`${gatewayWsUrl}/ws/scan/${scanId}`);

ws.onopen = () => {
    // Start scan
    ws.send(JSON.stringify({
        action: 'scan',
        path: scanPath ?? '/documents',
        recursive: true
    }));
};

// ---- shim: the example stops at sending; print what the server answers, one JSON line a message, until the scan's result ----
ws.onmessage = (event) => {
    console.log(event.data);
    const { type } = JSON.parse(event.data);
    if (type === 'completed' || type === 'error') ws.close(1000);
};
