/**
 * The standard gRPC services every Trawl scraper serves beside its own: health
 * checking (grpc.health.v1) and server reflection (grpc.reflection), so
 * grpcurl, grpc_health_probe and load balancers work against it unchanged.
 */
import type * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { file_trawl_v1_scraper, reflectionPackageDefinition, ScraperService } from "@trawl/proto";
import { HealthImplementation } from "grpc-health-check";

/** The health service names a scraper reports: the server as a whole and ScraperService. */
export const HEALTH_SERVICES = ["", ScraperService.typeName] as const;

export interface StandardServices {
  setServing(serving: boolean): void;
}

export function addStandardServices(server: grpc.Server): StandardServices {
  const health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((name) => [name, "SERVING"])));
  health.addToServer(server);
  // reflectionPackageDefinition yields the fileDescriptorProtos entries the
  // reflection service reads; its parameter type is proto-loader's wider union.
  const definition = reflectionPackageDefinition([file_trawl_v1_scraper]) as unknown as ConstructorParameters<typeof ReflectionService>[0];
  new ReflectionService(definition).addToServer(server);
  return {
    setServing: (serving) => {
      for (const name of HEALTH_SERVICES) health.setStatus(name, serving ? "SERVING" : "NOT_SERVING");
    },
  };
}
