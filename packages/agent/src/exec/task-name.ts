// The name of a task's container, as Docker Swarm names them (shared with the managers' Docker API).
export { containerName, serviceName } from "@shoal/shared";
