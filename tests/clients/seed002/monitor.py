# The Python example of seed 002 ("WebSocket Real-Time Updates", Usage →
# Python Example), run by tests/e2e/seed002.test.ts with Debian's Python and
# its `websockets` package:
#   /usr/bin/python3 monitor.py <gateway ws url> <job id>
#
# Verbatim apart from the URL and the job id, which come from the command
# line (`import sys` is the only addition). Trawl's job ids are strings; the
# `job_id: int` annotation is not enforced by Python and is left as written.
import sys
import asyncio
import json
import websockets

async def monitor_scraping_job(job_id: int):
    uri = f"{sys.argv[1]}/ws/scraping/{job_id}?format=flat"

    async with websockets.connect(uri) as websocket:
        print(f"Connected to job {job_id}")

        while True:
            message = await websocket.recv()
            event = json.loads(message)

            print(f"[{event['event_type']}] {event['message']}")
            print(f"Progress: {event.get('progress')}%")
            print(f"Results: {event['results_count']}")

            if event['event_type'] in ['job_completed', 'job_failed']:
                break

# Run
asyncio.run(monitor_scraping_job(sys.argv[2]))
