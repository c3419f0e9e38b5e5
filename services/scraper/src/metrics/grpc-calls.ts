/**
 * A grpc-js server interceptor that reports how every call ended: the status
 * the server sent (from a handler, or from an interceptor after it, such as
 * the token check's UNAUTHENTICATED), or CANCELLED when the caller went away
 * first (a cancelled WatchEvents stream, a passed deadline). It must come
 * before the interceptors whose refusals it should see: grpc-js wraps the
 * array's calls in order, so later interceptors send through earlier ones.
 * (What grpc-js refuses beneath every interceptor — a message over the size
 * limit, an unknown method — is not seen.)
 */
import * as grpc from "@grpc/grpc-js";

/** `onEnded(path, codeName)` once per call: `/trawl.v1.ScraperService/StartJob`, `INVALID_ARGUMENT`. */
export function callOutcomeInterceptor(onEnded: (path: string, code: string) => void): grpc.ServerInterceptor {
  return (methodDescriptor, call) => {
    let ended = false;
    const end = (code: grpc.status): void => {
      if (ended) return;
      ended = true;
      onEnded(methodDescriptor.path, grpc.status[code] ?? String(code));
    };
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({ onCancel: () => end(grpc.status.CANCELLED) });
      },
      sendStatus(status, next) {
        end(status.code);
        next(status);
      },
    });
  };
}
