export { AgentMetrics } from "./agent-metrics.js";
export { MetricsServer } from "./metrics-server.js";
