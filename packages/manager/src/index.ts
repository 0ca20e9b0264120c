export { Manager, type ManagerOptions } from "./manager.js";
export { Dispatcher, type DispatcherOptions } from "./dispatcher/dispatcher.js";
export { NodeRegistry } from "./dispatcher/node-registry.js";
