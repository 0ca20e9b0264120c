// The dashboard's server side, for benchmarks and tests outside the package.
export { DashboardServer, HEARTBEAT_MS, type DashboardServerOptions } from "./dashboard-server.js";
export { createLogin, redeemLogin } from "./credentials.js";
