// The JavaScript example of seed 002 ("WebSocket Real-Time Updates", Usage →
// JavaScript Example), run by tests/e2e/seed002.test.ts with Node:
//   node monitor.cjs <gateway ws url> <job id>
//
// ---- shim: what a browser gives the example and Node does not ----
// Node 20 has no global WebSocket; `ws` offers the same onopen/onmessage/
// onerror/onclose interface. The UI functions record their calls, printed
// on exit so the suite can check them.
const WebSocket = require("ws");
const uiCalls = { updateProgressBar: [], updateResultsCount: [] };
function updateProgressBar(progress) {
  uiCalls.updateProgressBar.push(progress);
}
function updateResultsCount(count) {
  uiCalls.updateResultsCount.push(count);
}
process.on("exit", () => console.log(`UI calls: ${JSON.stringify(uiCalls)}`));
const [, , gatewayWsUrl, trawlJobId] = process.argv;
// ---- the seed's example, verbatim apart from the job id and the URL ----

const jobId = trawlJobId;
const ws = new WebSocket(`${gatewayWsUrl}/ws/scraping/${jobId}?format=flat`);

ws.onopen = () => {
  console.log('Connected to scraping job', jobId);
};

ws.onmessage = (event) => {
  const data = JSON.parse(event.data);

  console.log(`[${data.event_type}] ${data.message}`);
  console.log(`Progress: ${data.progress}%`);
  console.log(`Results: ${data.results_count}`);

  // Update UI
  updateProgressBar(data.progress);
  updateResultsCount(data.results_count);

  // Handle completion
  if (data.event_type === 'job_completed') {
    console.log('Job finished successfully!');
    ws.close();
  }
};

ws.onerror = (error) => {
  console.error('WebSocket error:', error);
};

ws.onclose = () => {
  console.log('WebSocket closed');
};
