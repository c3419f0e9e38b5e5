# The seed's "Testing with Python" example (docs: WebSocket Real-Time Updates Guide, "Testing WebSocket"),
# run with /usr/bin/python3 (python-socketio 5.7.2) by tests/e2e/seed004.test.ts.
#
# Shim (the only lines that are not the seed's): the URL and job id the seed leaves to the reader
# ('http://localhost:8000', 'your-job-id'). The example ends in sio.wait(), which waits forever by design:
# the suite stops the process (SIGTERM) once it has printed the job's completion. Run with PYTHONUNBUFFERED=1
# so each print reaches the suite as it happens.
import os
SEED004_URL = os.environ['SEED004_URL']
SEED004_JOB_ID = os.environ['SEED004_JOB_ID']

# ---- the seed's example, verbatim apart from the URL and the job id ----

import socketio

# Create client
sio = socketio.Client()

@sio.on('connect')
def on_connect():
    print('Connected!')
    # Subscribe to job
    sio.emit('subscribe:job', {'job_id': SEED004_JOB_ID})

@sio.on('job:update')
def on_job_update(data):
    print(f"Job update: {data}")

@sio.on('job:completed')
def on_job_completed(data):
    print(f"Job completed: {data}")

# Connect
sio.connect(SEED004_URL)
sio.wait()
