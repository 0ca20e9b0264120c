export {
  ManagerMetrics,
  isHeartbeatFailure,
  isScheduling,
  serveManagerMetrics,
  type ManagerMetricsOptions,
} from "./manager-metrics.js";
export { MetricsServer } from "@shoal/shared";
