/**
 * grpc-js ⇄ protobuf-es v2 glue. The service is described once, in the
 * .proto; this module derives the grpc-js ServiceDefinition, typed server
 * handlers and a typed promise/stream client from the generated descriptor,
 * so nothing about the wire format is written by hand.
 */
import { create, fromBinary, toBinary, type DescFile, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";

type Shape<S> = S extends GenService<infer R> ? R : never;

type UnaryMethod = { methodKind: "unary"; input: DescMessage; output: DescMessage };
type ServerStreamingMethod = { methodKind: "server_streaming"; input: DescMessage; output: DescMessage };

/** The handlers a grpc-js server needs for service `S`, keyed by localName. */
export type ServiceHandlers<S extends GenService<GenServiceMethods>> = {
  [K in keyof Shape<S>]: Shape<S>[K] extends UnaryMethod
    ? grpc.handleUnaryCall<MessageShape<Shape<S>[K]["input"]>, MessageShape<Shape<S>[K]["output"]>>
    : Shape<S>[K] extends ServerStreamingMethod
      ? grpc.handleServerStreamingCall<MessageShape<Shape<S>[K]["input"]>, MessageShape<Shape<S>[K]["output"]>>
      : never;
};

/** A promise client for unary methods and a readable stream for server-streaming ones. */
export type ServiceClient<S extends GenService<GenServiceMethods>> = {
  [K in keyof Shape<S>]: Shape<S>[K] extends UnaryMethod
    ? (
        request: MessageInitShape<Shape<S>[K]["input"]>,
        options?: { metadata?: grpc.Metadata; deadlineMs?: number },
      ) => Promise<MessageShape<Shape<S>[K]["output"]>>
    : Shape<S>[K] extends ServerStreamingMethod
      ? (
          request: MessageInitShape<Shape<S>[K]["input"]>,
          options?: { metadata?: grpc.Metadata },
        ) => grpc.ClientReadableStream<MessageShape<Shape<S>[K]["output"]>>
      : never;
} & { readonly grpc: grpc.Client; close(): void };

/**
 * What the server's deserializer yields for bytes that are not a message of
 * the method's input type. grpc-js would answer a throwing deserializer with
 * INTERNAL — a server fault to the caller and to its alerts — so the
 * handlers `addService` registers answer this with INVALID_ARGUMENT instead,
 * and the service's handler never sees it.
 */
class UndecodableRequest {
  constructor(
    readonly typeName: string,
    readonly reason: string,
  ) {}

  status(): Partial<grpc.StatusObject> {
    return { code: grpc.status.INVALID_ARGUMENT, details: `the request is not a valid ${this.typeName} message: ${this.reason}` };
  }
}

function decodeRequest(input: DescMessage, bytes: Buffer): unknown {
  try {
    return fromBinary(input, bytes);
  } catch (err) {
    return new UndecodableRequest(input.typeName, err instanceof Error ? err.message : String(err));
  }
}

/**
 * Builds the grpc-js ServiceDefinition of a generated service: one entry per
 * method with its wire path and protobuf-es (de)serializers.
 */
export function serviceDefinition(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const { input, output } = method;
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.name,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: (value: MessageShape<typeof input>) => Buffer.from(toBinary(input, value)),
      requestDeserialize: (bytes: Buffer) => decodeRequest(input, bytes),
      responseSerialize: (value: MessageShape<typeof output>) => Buffer.from(toBinary(output, value)),
      responseDeserialize: (bytes: Buffer) => fromBinary(output, bytes),
    } as grpc.MethodDefinition<unknown, unknown>;
  }
  return definition;
}

/**
 * Registers `handlers` for `service` on a grpc-js server. A request that is
 * not a valid message of its method's input type is answered
 * INVALID_ARGUMENT, naming the type, without calling the handler.
 */
export function addService<S extends GenService<GenServiceMethods>>(
  server: grpc.Server,
  service: S,
  handlers: ServiceHandlers<S>,
): void {
  const given = handlers as unknown as Record<string, grpc.UntypedHandleCall | undefined>;
  const guarded: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const handler = given[method.localName];
    if (handler === undefined) continue;
    if (method.methodKind === "unary") {
      const unary = handler as grpc.handleUnaryCall<unknown, unknown>;
      guarded[method.localName] = ((call, callback) => {
        if (call.request instanceof UndecodableRequest) callback(call.request.status());
        else unary(call, callback);
      }) satisfies grpc.handleUnaryCall<unknown, unknown>;
    } else if (method.methodKind === "server_streaming") {
      const streaming = handler as grpc.handleServerStreamingCall<unknown, unknown>;
      guarded[method.localName] = ((call) => {
        if (call.request instanceof UndecodableRequest) call.emit("error", call.request.status());
        else streaming(call);
      }) satisfies grpc.handleServerStreamingCall<unknown, unknown>;
    } else {
      guarded[method.localName] = handler;
    }
  }
  server.addService(serviceDefinition(service), guarded);
}

/**
 * Creates a typed client. Unary calls return promises (rejecting with the
 * grpc-js ServiceError, which carries `code` and `details`); server-streaming
 * calls return the grpc-js stream of decoded messages.
 */
export function createClient<S extends GenService<GenServiceMethods>>(
  service: S,
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  options: grpc.ClientOptions = {},
): ServiceClient<S> {
  const client = new grpc.Client(address, credentials, options);
  const api: Record<string, unknown> = { grpc: client, close: () => client.close() };
  for (const method of service.methods) {
    const { input, output } = method;
    const path = `/${service.typeName}/${method.name}`;
    const serialize = (value: MessageShape<typeof input>) => Buffer.from(toBinary(input, value));
    const deserialize = (bytes: Buffer) => fromBinary(output, bytes);
    if (method.methodKind === "unary") {
      api[method.localName] = (request: MessageInitShape<typeof input>, opts: { metadata?: grpc.Metadata; deadlineMs?: number } = {}) =>
        new Promise((resolve, reject) => {
          const callOptions: grpc.CallOptions = opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};
          client.makeUnaryRequest(path, serialize, deserialize, create(input, request), opts.metadata ?? new grpc.Metadata(), callOptions, (err, value) =>
            err ? reject(err) : resolve(value),
          );
        });
    } else if (method.methodKind === "server_streaming") {
      api[method.localName] = (request: MessageInitShape<typeof input>, opts: { metadata?: grpc.Metadata } = {}) =>
        client.makeServerStreamRequest(path, serialize, deserialize, create(input, request), opts.metadata ?? new grpc.Metadata());
    }
  }
  return api as ServiceClient<S>;
}

/**
 * A grpc-js/proto-loader style package definition carrying the serialized
 * FileDescriptorProtos of `files` and their imports — what @grpc/reflection
 * reads to answer reflection requests, built from protobuf-es descriptors so
 * the .proto is never loaded twice.
 */
export function reflectionPackageDefinition(files: DescFile[]): Record<string, { fileDescriptorProtos: Buffer[] }> {
  const seen = new Set<string>();
  const encoded: Buffer[] = [];
  const visit = (file: DescFile): void => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    file.dependencies.forEach(visit);
    encoded.push(Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
  };
  files.forEach(visit);
  const definition: Record<string, { fileDescriptorProtos: Buffer[] }> = {};
  for (const file of files) {
    for (const service of file.services) {
      definition[service.typeName] = { fileDescriptorProtos: encoded };
    }
  }
  return definition;
}
