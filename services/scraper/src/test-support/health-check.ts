/**
 * grpc.health.v1.Health/Check over a raw grpc-js client (no generated code
 * for the health protocol here): resolves with the serving status number
 * (1 SERVING, 2 NOT_SERVING), rejects with the call's gRPC error.
 */
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";

export const SERVING = 1;
export const NOT_SERVING = 2;

export function healthCheck(address: string, service = ""): Promise<number> {
  const raw = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<number>((resolve, reject) =>
    raw.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      // HealthCheckRequest { service = 1 }
      (name: string) => Buffer.from(new BinaryWriter().tag(1, WireType.LengthDelimited).string(name).finish()),
      // HealthCheckResponse { status = 1 }
      (bytes: Buffer) => {
        const reader = new BinaryReader(bytes);
        let status = 0;
        while (reader.pos < reader.len) {
          const [field, wire] = reader.tag();
          if (field === 1) status = reader.int32();
          else reader.skip(wire);
        }
        return status;
      },
      service,
      (err, status) => (err ? reject(err) : resolve(status ?? -1)),
    ),
  ).finally(() => raw.close());
}
