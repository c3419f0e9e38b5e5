// The seed's "Manual Testing with Browser Console" snippet (docs: WebSocket Real-Time Updates Guide,
// "Testing WebSocket"), run in Node by tests/e2e/seed004.test.ts.
//
// Shims (the only lines that are not the seed's):
// 1. In a browser console `io` is the global the socket.io client script defines; in Node it comes from the package.
const { io } = require("socket.io-client");
// 2. Print each logged object on one line, so the suite reads one message per line (output only).
require("node:util").inspect.defaultOptions.breakLength = Infinity;
// 3. The URL and job id the seed leaves to the reader ('ws://localhost:8000', 'your-job-id-here').
const SEED004_URL = process.env.SEED004_URL;
const SEED004_JOB_ID = process.env.SEED004_JOB_ID;

// ---- the seed's snippet, verbatim apart from the URL and the job id ----

// Connect to WebSocket
const socket = io(SEED004_URL)

// Listen for connection
socket.on('connect', () => {
  console.log('Connected!', socket.id)
})

// Subscribe to a job
socket.emit('subscribe:job', { job_id: SEED004_JOB_ID })

// Listen for updates
socket.on('job:update', (data) => {
  console.log('Update:', data)
})

socket.on('job:completed', (data) => {
  console.log('Completed:', data)
})

socket.on('job:error', (data) => {
  console.error('Error:', data)
})
