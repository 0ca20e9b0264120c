// The run loop shared by every component that follows the store and reconciles: orchestrators,
// the scheduler, the CA's rotation reconciler and the per-manager followers.
export { ReconcileLoop, type Reconciler, type LoopOptions } from "./reconcile-loop.js";
