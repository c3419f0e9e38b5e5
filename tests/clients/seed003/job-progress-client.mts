// Seed 003's "JavaScript/TypeScript Example" (Client Implementation), the
// JobProgressClient class, run by tests/e2e/seed003.test.ts with tsx:
//   tsx job-progress-client.mts <gateway ws url> <job id>
//
// ---- shim: what a browser gives the example and Node 20 does not ----
// Node 20 has no global WebSocket; `ws` offers the same onopen/onmessage/
// onerror/onclose interface and WebSocket.OPEN. (This file is .mts so the
// suite's type check leaves the example's own typing as the seed wrote it.)
import WebSocket from "ws";
const [, , gatewayWsUrl, trawlJobId] = process.argv;
// ---- the seed's example, verbatim apart from the URL ----

class JobProgressClient {
    private ws: WebSocket | null = null;
    private reconnectAttempts = 0;
    private maxReconnectAttempts = 5;
    private reconnectDelay = 3000;

    connect(jobId: string) {
        const wsUrl = `${gatewayWsUrl}/ws/${jobId}`;
        
        try {
            this.ws = new WebSocket(wsUrl);
            this.setupEventHandlers();
        } catch (error) {
            console.error('Failed to create WebSocket:', error);
        }
    }

    private setupEventHandlers() {
        if (!this.ws) return;

        this.ws.onopen = () => {
            console.log('WebSocket connected');
            this.reconnectAttempts = 0;
        };

        this.ws.onmessage = (event) => {
            const data = JSON.parse(event.data);
            this.handleMessage(data);
        };

        this.ws.onerror = (error) => {
            console.error('WebSocket error:', error);
        };

        this.ws.onclose = (event) => {
            console.log('WebSocket closed:', event.code, event.reason);
            
            // Reconnect on abnormal closure
            if (event.code !== 1000 && this.reconnectAttempts < this.maxReconnectAttempts) {
                this.reconnect();
            }
        };
    }

    private handleMessage(data: any) {
        switch (data.type) {
            case 'job_started':
                console.log(`Job started: ${data.total_files} files to process`);
                break;
            
            case 'file_processing':
                console.log(`Processing: ${data.current_file} (${data.processed_files}/${data.total_files})`);
                break;
            
            case 'file_completed':
                console.log(`Progress: ${data.processed_files}/${data.total_files}`);
                break;
            
            case 'job_completed':
                console.log('Job completed!');
                this.disconnect();
                break;
            
            case 'error':
                console.error('Job error:', data.message);
                break;
        }
    }

    private reconnect() {
        this.reconnectAttempts++;
        console.log(`Reconnecting... (attempt ${this.reconnectAttempts})`);
        
        setTimeout(() => {
            this.connect(jobId);
        }, this.reconnectDelay);
    }

    disconnect() {
        if (this.ws && this.ws.readyState === WebSocket.OPEN) {
            this.ws.close(1000, 'Client disconnect');
        }
    }
}

// ---- shim: the seed shows the class, not its use; this is the one line that uses it ----
new JobProgressClient().connect(trawlJobId);
