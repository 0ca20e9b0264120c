// The dashboard package, as the manager uses it: the page's files and the API's types.
export { dashboardAssets, type DashboardAsset } from "@shoal/dashboard";
export type * from "@shoal/dashboard";
