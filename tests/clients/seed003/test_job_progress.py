# Seed 003's "Automated Testing" example, run by tests/e2e/seed003.test.ts
# with Debian's Python and its `websockets` package:
#   /usr/bin/python3 test_job_progress.py <gateway ws url> [<job id>]
#
# Verbatim apart from the URL: the gateway's address and the job id come
# from the command line (`import sys` is the only addition). Without a job
# id it connects to the seed's own "test-job-id".
import sys
import asyncio
import websockets
import json

async def test_job_progress():
    uri = f"{sys.argv[1]}/ws/{sys.argv[2] if len(sys.argv) > 2 else 'test-job-id'}"
    
    async with websockets.connect(uri) as websocket:
        # Wait for connection
        await asyncio.sleep(0.1)
        
        # Should receive updates
        message = await websocket.recv()
        data = json.loads(message)
        
        assert data["type"] in ["job_started", "file_processing", "error"]
        print(f"Received: {data}")

# Run test
asyncio.run(test_job_progress())
