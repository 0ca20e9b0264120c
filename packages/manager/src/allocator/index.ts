export { Allocator, ALLOCATED_MESSAGE, ALLOCATION_MESSAGE, type AllocatorOptions } from "./allocator.js";
export { DYNAMIC_PORT_HIGH, DYNAMIC_PORT_LOW } from "./port-pool.js";
export { networksAllocated, publishesIngress } from "./task-networks.js";
