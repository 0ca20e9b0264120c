export { dashboardAssets, type DashboardAsset } from "./assets.js";
export type * from "./api.js";
