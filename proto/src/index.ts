export * from "./gen/trawl/v1/scraper_pb.js";
export * from "./grpc.js";
export * from "./names.js";
export * from "./item-json.js";
export * from "./access.js";
export * from "./grpc-auth.js";
