// Where a component registers the gRPC services it serves: the manager's server (before it binds).
import type * as grpc from "@grpc/grpc-js";

export type ServiceRegistry = Pick<grpc.Server, "addService">;
