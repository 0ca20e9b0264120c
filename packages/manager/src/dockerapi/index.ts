export { DockerApiServer, dockerRoutes, type DockerApiOptions } from "./docker-api-server.js";
export type { DockerApiContext } from "./context.js";
export type { ControlCaller } from "./control-calls.js";
export type { LogsCaller } from "./logs.js";
export { fromDockerServiceSpec, toDockerServiceSpec } from "./service-spec.js";
export { UNMAPPED_LABEL } from "./unmapped-fields.js";
