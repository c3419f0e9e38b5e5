/**
 * Tenants on the scraper's gRPC service. The server interceptor has already
 * refused unauthenticated callers and roles too low for the method; this
 * wraps the handlers so a caller that is not an admin works on its own
 * tenant only: its new jobs are its tenant's, ListJobs lists its tenant's,
 * WatchEvents streams its tenant's jobs (`tenantWatchFilter`, which the
 * handlers apply), and a job of another tenant is
 * NOT_FOUND like a job that does not exist. An admin caller (the gateway,
 * which scopes its own clients) may name any tenant.
 */
import * as grpc from "@grpc/grpc-js";
import { callPrincipal, DEFAULT_TENANT, isTenantName, type Principal, Role, type ScraperService, type ServiceHandlers, type TokenRegistry } from "@trawl/proto";
import type { JobService } from "../jobs/job-service.js";

type Handlers = ServiceHandlers<typeof ScraperService>;

const fail = (code: grpc.status, details: string): grpc.ServiceError => Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });

export function withTenants(inner: Handlers, registry: TokenRegistry, jobs: JobService): Handlers {
  const principalOf = (metadata: grpc.Metadata): Principal => callPrincipal(registry, metadata) ?? { tenant: DEFAULT_TENANT, role: Role.READ, tokenId: "none" };
  /** Resolves true when the job exists and is the caller's (or the caller is an admin). */
  const owns = async (principal: Principal, jobId: string): Promise<boolean> => {
    if (principal.role === Role.ADMIN || jobId === "") return true;
    const job = jobs.get(jobId)?.toProto() ?? (await jobs.find(jobId));
    return job !== undefined && (job.tenant || DEFAULT_TENANT) === principal.tenant;
  };
  /** A unary handler run only for a job the caller may see. */
  const guarded = <K extends "getJob" | "cancelJob" | "pauseJob" | "resumeJob" | "listItems">(name: K): Handlers[K] =>
    ((call: grpc.ServerUnaryCall<{ jobId: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      owns(principalOf(call.metadata), call.request.jobId).then(
        (ok) => (ok ? (inner[name] as (c: typeof call, cb: typeof callback) => void)(call, callback) : callback(fail(grpc.status.NOT_FOUND, `job_id: job ${call.request.jobId} not found`))),
        () => callback(fail(grpc.status.INTERNAL, "reading the job failed")),
      );
    }) as unknown as Handlers[K];

  return {
    ...inner,
    startJob: (call, callback) => {
      const principal = principalOf(call.metadata);
      if (principal.role !== Role.ADMIN) call.request.tenant = principal.tenant;
      else if (call.request.tenant === "") call.request.tenant = principal.tenant;
      else if (!isTenantName(call.request.tenant)) return callback(fail(grpc.status.INVALID_ARGUMENT, "tenant: must be 1-63 of a-z, 0-9, '_' or '-', starting with a letter or digit"));
      return inner.startJob(call, callback);
    },
    listJobs: (call, callback) => {
      const principal = principalOf(call.metadata);
      if (principal.role !== Role.ADMIN) call.request.tenant = principal.tenant;
      return inner.listJobs(call, callback);
    },
    getJob: guarded("getJob"),
    cancelJob: guarded("cancelJob"),
    pauseJob: guarded("pauseJob"),
    resumeJob: guarded("resumeJob"),
    listItems: guarded("listItems"),
    exportItems: (call) => {
      owns(principalOf(call.metadata), call.request.jobId).then(
        (ok) => (ok ? inner.exportItems(call) : call.emit("error", fail(grpc.status.NOT_FOUND, `job_id: job ${call.request.jobId} not found`))),
        () => call.emit("error", fail(grpc.status.INTERNAL, "reading the job failed")),
      );
    },
  };
}

/**
 * For the handlers' WatchEvents: a caller that is not an admin streams its
 * own tenant's jobs only (undefined: every job).
 */
export function tenantWatchFilter(registry: TokenRegistry, jobs: JobService): (metadata: grpc.Metadata) => ((jobId: string) => boolean) | undefined {
  return (metadata) => {
    const principal = callPrincipal(registry, metadata);
    if (principal?.role === Role.ADMIN) return undefined;
    const tenant = principal?.tenant ?? DEFAULT_TENANT;
    return (jobId) => jobs.get(jobId)?.tenant === tenant;
  };
}

/** The least role each method needs (for the server interceptor). */
export function neededRole(path: string): Role {
  const method = path.slice(path.lastIndexOf("/") + 1);
  return method === "StartJob" || method === "CancelJob" || method === "PauseJob" || method === "ResumeJob" ? Role.CONTROL : Role.READ;
}
