export {
  type Executor,
  type Controller,
  type ControllerOptions,
  type ContainerRunState,
  type ContainerSnapshot,
  type ExitStatus,
  type ExecutorEvent,
  type ImageInspect,
  type PullOptions,
  type PullProgress,
  type TaskContainer,
} from "./exec/executor.js";
export {
  ExecError,
  ExecErrorReason,
  TaskExitError,
  ImagePullError,
  ContainerUnhealthyError,
  DaemonUnavailableError,
  isTemporary,
  exitCodeOf,
  type ExecErrorOptions,
} from "./exec/errors.js";
export { doTask, type StepOutcome, type StepResult } from "./exec/do.js";
export { containerName } from "./exec/task-name.js";
export { FakeExecutor, type FakeTaskScript, type FakeContainer, type FakeCall } from "./exec/fake/fake-executor.js";
export { FakeController } from "./exec/fake/fake-controller.js";
export { FakeImages, type FakePull, type FakePullScript } from "./exec/fake/fake-images.js";
export { DockerExecutor, type DockerExecutorOptions } from "./exec/docker/docker-executor.js";
export { DockerController } from "./exec/docker/docker-controller.js";
export { containerConfig, stopGraceMs, DEFAULT_STOP_GRACE_MS } from "./exec/docker/container-config.js";
export { TaskLabel, taskLabels } from "./exec/docker/labels.js";
export { dockerOptions, DEFAULT_DOCKER_HOST } from "./exec/docker/docker-host.js";
export { DockerLogSource, type DockerLogSourceOptions } from "./exec/docker/container-logs.js";
export type { LogSource, LogChunk } from "./exec/log-source.js";
export { runLogPublisher, type LogPublisherOptions } from "./logs/log-publisher.js";
export { runContainerCalls, type ContainerCallsOptions } from "./containers/container-calls.js";
export { CallChannel, type ContainerCallServer } from "./containers/call-channel.js";
export { DockerContainerCalls } from "./exec/docker/calls/docker-calls.js";
export { Agent, agentNodeId, type AgentOptions } from "./agent.js";
export { NetworkStates, networkId } from "./network/network-states.js";
export { DataPlane, type DataPlaneOptions } from "./network/dataplane/data-plane.js";
export { spawnRunner, netnsRunner, type CommandRunner } from "./network/command-runner.js";
export type { HostNetworks, NetworkReadiness, ReadyNetwork } from "./exec/host-networks.js";
export { agentCertificate, agentCertDir, type AgentCertificateOptions } from "./node-certificate.js";
export { runSession, type SessionOptions, type SessionLink } from "./session.js";
export { ImagePuller, type ImagePullerOptions, type ImagePullReport } from "./pulls/image-puller.js";
export { Worker, type WorkerOptions } from "./worker/worker.js";
export { TaskRunner, type TaskRunnerOptions } from "./worker/task-runner.js";
export { FileTaskStore, MemoryTaskStore, type TaskStore } from "./worker/task-store.js";
export { StatusReporter, type StatusReporterOptions, type StatusSender, type StatusSink } from "./reporter.js";
export { AgentMetrics, MetricsServer } from "./metrics/index.js";
export { DependencyStore, type Dependencies } from "./secrets/dependency-store.js";
export {
  taskFileRefs,
  resolveTaskFiles,
  SECRETS_TARGET_DIR,
  CONFIGS_TARGET_DIR,
  DEFAULT_FILE_MODE,
  type FileRef,
  type ResolvedFile,
} from "./secrets/references.js";
export { TaskFiles, type TaskFile } from "./secrets/task-files.js";
export { defaultSecretsDir, memoryBacked, TMPFS_MAGIC, RAMFS_MAGIC } from "./secrets/memory-dir.js";
export { taskFileMounts, withTaskFiles } from "./exec/docker/container-config-secrets.js";
export { ServiceDns, gatewayOf, DNS_PORT, type ServiceDnsOptions } from "./network/dns/service-dns.js";
export { NatController, type NatControllerOptions } from "./network/nat/nat-controller.js";
export { iptablesRules, type IptablesRules, type RulesInput } from "./network/nat/rules.js";
