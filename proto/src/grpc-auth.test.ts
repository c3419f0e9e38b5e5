import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAccessTokens, Role, TokenRegistry } from "./access.js";
import { CancelJobResponseSchema, GetJobResponseSchema, JobSchema, ScraperService } from "./gen/trawl/v1/scraper_pb.js";
import { authServerInterceptor, bearerInterceptor, callPrincipal } from "./grpc-auth.js";
import { addService, createClient, type ServiceHandlers } from "./grpc.js";

const READ = "tenant-a-read-token-1";
const CONTROL = "tenant-a-control-token";
const registry = new TokenRegistry(parseAccessTokens(`a:read:${READ},a:control:${CONTROL}`));

describe("gRPC tokens on a real grpc-js server", () => {
  let server: grpc.Server;
  let port = 0;
  const refused: Array<[string, grpc.status]> = [];
  const seen: string[] = [];

  beforeAll(async () => {
    server = new grpc.Server({ interceptors: [authServerInterceptor(registry, (path) => (path.endsWith("/CancelJob") ? Role.CONTROL : Role.READ), (path, code) => refused.push([path, code]))] });
    const answer = (schema: typeof GetJobResponseSchema | typeof CancelJobResponseSchema) => (call: grpc.ServerUnaryCall<{ jobId: string }, unknown>, callback: grpc.sendUnaryData<never>) => {
      seen.push(`${callPrincipal(registry, call.metadata)?.tenant}:${callPrincipal(registry, call.metadata)?.role}`);
      callback(null, create(schema, { job: create(JobSchema, { id: call.request.jobId }) }) as never);
    };
    const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<never>) => callback({ code: grpc.status.UNIMPLEMENTED, details: "no" } as grpc.ServiceError, null);
    const handlers = { startJob: unimplemented, listJobs: unimplemented, getStats: unimplemented, getJob: answer(GetJobResponseSchema), cancelJob: answer(CancelJobResponseSchema), watchEvents: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end() };
    addService(server, ScraperService, handlers as unknown as ServiceHandlers<typeof ScraperService>);
    port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  });
  afterAll(() => server.forceShutdown());

  const client = (token?: string) => createClient(ScraperService, `127.0.0.1:${port}`, undefined, token === undefined ? {} : { interceptors: [bearerInterceptor(token)] });

  it("refuses a call without a token or with an unknown one (UNAUTHENTICATED), before the handler runs", async () => {
    await expect(client().getJob({ jobId: "j" })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(client("not-a-known-token-0000").getJob({ jobId: "j" })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    expect(seen).toEqual([]);
  });

  it("refuses a method the token's role does not allow (PERMISSION_DENIED) and serves the rest", async () => {
    await expect(client(READ).cancelJob({ jobId: "j" })).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringContaining("needs control") });
    await expect(client(READ).getJob({ jobId: "j" })).resolves.toMatchObject({ job: { id: "j" } });
    await expect(client(CONTROL).cancelJob({ jobId: "k" })).resolves.toMatchObject({ job: { id: "k" } });
    expect(seen).toEqual(["a:read", "a:control"]);
    expect(refused.map(([path, code]) => [path.split("/").pop(), code])).toContainEqual(["CancelJob", grpc.status.PERMISSION_DENIED]);
  });
});
