export { AgentMetrics } from "./agent-metrics.js";
export { MetricsServer } from "@shoal/shared";
