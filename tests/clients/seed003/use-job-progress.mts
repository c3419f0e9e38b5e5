// Seed 003's "React Hook Example", useJobProgress, run by
// tests/e2e/seed003.test.ts with tsx outside React:
//   tsx use-job-progress.mts <gateway ws url> <job id>
// Every state the hook sets is printed as a JSON line (see react-shim.mjs).
//
// ---- shim: React and a browser WebSocket, which Node 20 does not have ----
// The `from 'react'` import is the one line of the example changed (to the
// shim); `ws` stands in for the browser's WebSocket.
import WebSocket from "ws";
import { onUpdate, unmount } from "./react-shim.mjs";
const [, , gatewayWsUrl, trawlJobId] = process.argv;
// ---- the seed's example, verbatim apart from the import and the URL ----

import { useEffect, useRef, useState } from './react-shim.mjs';

interface JobProgress {
    currentFile?: string;
    processedFiles: number;
    totalFiles: number;
    status: 'connecting' | 'processing' | 'completed' | 'error';
    error?: string;
}

export function useJobProgress(jobId: string): JobProgress {
    const [progress, setProgress] = useState<JobProgress>({
        processedFiles: 0,
        totalFiles: 0,
        status: 'connecting'
    });
    
    const wsRef = useRef<WebSocket | null>(null);
    
    useEffect(() => {
        if (!jobId) return;
        
        const ws = new WebSocket(`${gatewayWsUrl}/ws/${jobId}`);
        wsRef.current = ws;
        
        ws.onmessage = (event) => {
            const data = JSON.parse(event.data);
            
            switch (data.type) {
                case 'job_started':
                    setProgress(prev => ({
                        ...prev,
                        totalFiles: data.total_files,
                        status: 'processing'
                    }));
                    break;
                
                case 'file_processing':
                    setProgress({
                        currentFile: data.current_file,
                        processedFiles: data.processed_files,
                        totalFiles: data.total_files,
                        status: 'processing'
                    });
                    break;
                
                case 'job_completed':
                    setProgress(prev => ({
                        ...prev,
                        status: 'completed'
                    }));
                    break;
                
                case 'error':
                    setProgress(prev => ({
                        ...prev,
                        status: 'error',
                        error: data.message
                    }));
                    break;
            }
        };
        
        ws.onerror = () => {
            setProgress(prev => ({
                ...prev,
                status: 'error',
                error: 'WebSocket connection failed'
            }));
        };
        
        return () => {
            if (ws.readyState === WebSocket.OPEN) {
                ws.close();
            }
        };
    }, [jobId]);
    
    return progress;
}

// ---- shim: mount the hook once for the job; unmount when the job has completed ----
onUpdate((progress: JobProgress) => {
    if (progress.status === 'completed') unmount();
});
useJobProgress(trawlJobId);
