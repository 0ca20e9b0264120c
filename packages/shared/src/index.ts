export {
  createLogger,
  componentLogger,
  silentLogger,
  isLogLevel,
  LOG_LEVELS,
  type Logger,
  type LogLevel,
  type LoggerOptions,
} from "./logging.js";
export {
  ErrorCode,
  ShoalError,
  InvalidArgumentError,
  NotFoundError,
  SequenceConflictError,
  UnavailableError,
  isShoalError,
  errorMessage,
  leaderHint,
  type ShoalErrorOptions,
} from "./errors.js";
export { newId, isId, shortId, ID_LENGTH } from "./ids.js";
export { systemClock, ManualClock, every, type Clock, type Timer } from "./async/clock.js";
export { Backoff, type BackoffOptions } from "./async/backoff.js";
export { throwIfAborted, withDeadline, raceAbort } from "./async/abort.js";
export { BoundedQueue, type OverflowPolicy } from "./async/queue.js";
export { whenWritable } from "./async/writable.js";
export { VERSION } from "./version.js";
export * from "./api.js";
export { toServiceError, fromServiceError } from "./grpc/status.js";
export {
  unaryCall,
  type UnaryCallOptions,
  type UnaryMethod,
  type UnaryMethodName,
  type RequestOf,
  type ResponseOf,
} from "./grpc/unary-call.js";
export { serverStream } from "./grpc/server-stream.js";
export { isProcessAlive } from "./process.js";
export { cidrAddress } from "./cidr.js";
export { MetricsServer, type MetricsRegistry } from "./metrics-server.js";
export * as pki from "./pki/index.js";
export * from "./tls/index.js";
export { CronSchedule, cronSchedule, DEFAULT_SCHEDULE_TIMEZONE } from "./schedule.js";
export { checkTemplate, expandTemplate, TemplateError, type TemplateContext } from "./template.js";
export {
  discreteResource,
  namedResource,
  resourceKind,
  resourceValue,
  formatResource,
  parseGenericResources,
} from "./generic-resources.js";
export { containerName, serviceName } from "./task-name.js";
export { containerOpen, humanDuration } from "./container-open.js";
export * from "./container-stats.js";
export {
  DEFAULT_LIST_PAGE_SIZE,
  MAX_LIST_PAGE_SIZE,
  MAX_LIST_PAGE_BYTES,
  taskPages,
  nodePages,
  listAllTasks,
  listAllNodes,
  compareTasksBySlot,
  compareNodesByHostname,
  compareIds,
  type ListPagesOptions,
  type ListTasksCall,
  type ListNodesCall,
} from "./list-pages.js";
