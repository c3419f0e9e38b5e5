import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addService, createClient, serviceDefinition, type ServiceHandlers } from "./grpc.js";
import { JobEventSchema, ScraperService, WatchEventsResponseSchema, GetJobResponseSchema, JobSchema } from "./gen/trawl/v1/scraper_pb.js";
import { jobStatusName, platformFromName, platformName, PLATFORM_NAMES } from "./names.js";

describe("serviceDefinition", () => {
  it("derives every method's path and streaming kind from the descriptor", () => {
    const def = serviceDefinition(ScraperService);
    expect(def.startJob?.path).toBe("/trawl.v1.ScraperService/StartJob");
    expect(def.startJob?.responseStream).toBe(false);
    expect(def.watchEvents?.path).toBe("/trawl.v1.ScraperService/WatchEvents");
    expect(def.watchEvents?.responseStream).toBe(true);
    expect(def.watchEvents?.requestStream).toBe(false);
  });
});

describe("names", () => {
  it("round-trips every platform name", () => {
    for (const name of PLATFORM_NAMES) expect(platformName(platformFromName(name))).toBe(name);
  });
  it("reads an unspecified status as pending", () => {
    expect(jobStatusName(0)).toBe("pending");
  });
});

describe("typed client against a real grpc-js server", () => {
  const server = new grpc.Server();
  let client: ReturnType<typeof createClient<typeof ScraperService>>;
  const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<never>) =>
    callback({ code: grpc.status.UNIMPLEMENTED, details: "not part of this test" } as grpc.ServiceError, null);

  beforeAll(async () => {
    const handlers: ServiceHandlers<typeof ScraperService> = {
      startJob: unimplemented,
      listJobs: unimplemented,
      cancelJob: unimplemented,
      getStats: unimplemented,
      getJob: (call, callback) => {
        if (call.request.jobId !== "known") {
          return callback({ code: grpc.status.NOT_FOUND, details: `job ${call.request.jobId} not found` } as grpc.ServiceError, null);
        }
        return callback(null, create(GetJobResponseSchema, { job: create(JobSchema, { id: "known" }) }));
      },
      watchEvents: (call) => {
        for (let i = 1; i <= 3; i++) {
          const event = create(JobEventSchema, { jobId: call.request.jobId, seq: BigInt(i), offset: call.request.afterOffset + BigInt(i) });
          call.write(create(WatchEventsResponseSchema, { message: { case: "event", value: event } }));
        }
        call.end();
      },
    };
    addService(server, ScraperService, handlers);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    client = createClient(ScraperService, `127.0.0.1:${port}`);
  });
  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  it("resolves a unary call with the decoded message", async () => {
    const res = await client.getJob({ jobId: "known" });
    expect(res.job?.id).toBe("known");
  });

  it("rejects with the gRPC status of the handler", async () => {
    await expect(client.getJob({ jobId: "nope" })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it("answers bytes that are not a valid request INVALID_ARGUMENT naming the type, without calling the handler", async () => {
    // Field 1 says 5 bytes follow; one does.
    const truncated = Buffer.from([0x0a, 0x05, 0x61]);
    const raw = client.grpc;
    const unary = await new Promise<grpc.ServiceError | null>((resolve) =>
      raw.makeUnaryRequest("/trawl.v1.ScraperService/GetJob", (bytes: Buffer) => bytes, (bytes: Buffer) => bytes, truncated, (err) => resolve(err)),
    );
    expect(unary).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^the request is not a valid trawl\.v1\.GetJobRequest message: \S/) });

    const stream = raw.makeServerStreamRequest("/trawl.v1.ScraperService/WatchEvents", (bytes: Buffer) => bytes, (bytes: Buffer) => bytes, truncated);
    const received: unknown[] = [];
    stream.on("data", (message) => received.push(message));
    const error = await new Promise<grpc.ServiceError>((resolve) => stream.on("error", resolve));
    expect(error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^the request is not a valid trawl\.v1\.WatchEventsRequest message: \S/) });
    expect(received, "the handler, which writes three events, never ran").toEqual([]);
  });

  it("streams decoded messages in order", async () => {
    const offsets: bigint[] = [];
    for await (const msg of client.watchEvents({ jobId: "j", afterOffset: 10n })) {
      if (msg.message.case === "event") offsets.push(msg.message.value.offset);
    }
    expect(offsets).toEqual([11n, 12n, 13n]);
  });
});
