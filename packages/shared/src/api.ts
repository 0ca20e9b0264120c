// The wire contract: the types and gRPC services generated from
// proto/shoal/v1 (see buf.gen.yaml), re-exported by name. Code outside
// packages/shared imports these from "@shoal/shared", never from gen/.
//
// Shape of the generated code:
// - a message is an interface plus a same-named value with encode, decode,
//   create, fromPartial, toJSON and fromJSON; every field is present (message
//   fields are `T | undefined`); build objects with `X.create({...})`;
// - an enum is a numeric TS enum without its prefix (TaskState.RUNNING);
// - a oneof is `{ $case: "replicated"; value: ReplicatedService } | ... |
//   undefined`;
// - Timestamp fields are Date, Duration fields `{ seconds, nanos }`, 64-bit
//   integers numbers, bytes Uint8Array (decoded bytes are views into the
//   received buffer, not copies);
// - a service Foo gives FooService (the grpc-js service definition, for
//   server.addService), FooServer (the handlers to implement) and
//   FooClient (a grpc-js client class).

import type { Duration } from "./gen/google/protobuf/duration.js";
import type { StoreAction } from "./gen/shoal/v1/raft.js";
import type { ServiceSpec } from "./gen/shoal/v1/types.js";

export { Duration } from "./gen/google/protobuf/duration.js";

export {
  Annotations,
  CAConfig,
  ClusterSpec,
  BindOptions,
  ConfigReference,
  ContainerSpec,
  DiscreteGenericResource,
  DispatcherConfig,
  DNSConfig,
  Driver,
  FileTarget,
  GenericResource,
  Mount,
  MountType,
  NamedGenericResource,
  PlacementPlatform,
  SecretReference,
  TmpfsOptions,
  Ulimit,
  VolumeOptions,
  EncryptionConfig,
  EndpointSpec,
  GlobalJob,
  GlobalService,
  HealthConfig,
  JobSchedule,
  HealthState,
  Meta,
  NodeAvailability,
  NodeRole,
  NodeSpec,
  NodeState,
  OrchestrationConfig,
  Placement,
  PlacementPreference,
  PortConfig,
  PortProtocol,
  PublishMode,
  RaftConfig,
  Reachability,
  RebalanceMode,
  ReplicatedJob,
  ReplicatedService,
  ResourceRequirements,
  Resources,
  RestartCondition,
  RestartPolicy,
  ScheduleOverlap,
  ServiceSpec,
  SpreadOver,
  TaskSpec,
  TaskState,
  UpdateConfig,
  UpdateFailureAction,
  UpdateOrder,
  UpdateState,
  Version,
  EndpointMode,
  NetworkAttachmentConfig,
  IPAMConfig,
  IPAMOptions,
  NetworkSpec,
  type DeepPartial,
  type MessageFns,
} from "./gen/shoal/v1/types.js";

export {
  Cluster,
  DashboardCredential,
  ContainerStatus,
  EngineDescription,
  EnginePlugin,
  JobRun,
  JobRunOutcome,
  JobStatus,
  JoinTokens,
  ManagerStatus,
  Node,
  NodeCertificate,
  NodeDescription,
  NodeStatus,
  Platform,
  PortStatus,
  Secret,
  SecretSpec,
  Config,
  ConfigSpec,
  RebalanceStatus,
  Service,
  Task,
  TaskStatus,
  UpdateStatus,
  Endpoint,
  EndpointVirtualIP,
  Network,
  NetworkAttachment,
} from "./gen/shoal/v1/objects.js";

export {
  ControlClient,
  ControlService,
  CreateServiceRequest,
  CreateServiceResponse,
  GetClusterRequest,
  GetClusterResponse,
  GetInfoRequest,
  GetInfoResponse,
  GetNodeRequest,
  GetNodeResponse,
  GetServiceRequest,
  GetServiceResponse,
  GetTaskRequest,
  GetTaskResponse,
  GetUnlockKeyRequest,
  GetUnlockKeyResponse,
  IssueClientCertificateRequest,
  IssueClientCertificateResponse,
  JoinTokenRotation,
  ListClustersRequest,
  ListClustersResponse,
  ListNodesRequest,
  ListNodesResponse,
  ListServicesRequest,
  ListServicesResponse,
  ServiceReplicaStatus,
  ListTasksRequest,
  ListTasksResponse,
  NodeFilters,
  InspectImageNode,
  InspectImageRequest,
  InspectImageResponse,
  PullImageNode,
  PullImageRequest,
  PullImageResponse,
  RaftMemberStatus,
  RaftStatus,
  RebalanceServiceRequest,
  RebalanceServiceResponse,
  CreateSecretRequest,
  CreateSecretResponse,
  GetSecretRequest,
  GetSecretResponse,
  ListSecretsRequest,
  ListSecretsResponse,
  UpdateSecretRequest,
  UpdateSecretResponse,
  RemoveSecretRequest,
  RemoveSecretResponse,
  CreateConfigRequest,
  CreateConfigResponse,
  GetConfigRequest,
  GetConfigResponse,
  ListConfigsRequest,
  ListConfigsResponse,
  UpdateConfigRequest,
  UpdateConfigResponse,
  RemoveConfigRequest,
  RemoveConfigResponse,
  SecretFilters,
  RemoveNodeRequest,
  RemoveNodeResponse,
  RemoveServiceRequest,
  RemoveServiceResponse,
  RevokeClientCertificateRequest,
  RevokeClientCertificateResponse,
  RotateUnlockKeyRequest,
  RotateUnlockKeyResponse,
  ServiceFilters,
  TaskFilters,
  UpdateClusterRequest,
  UpdateClusterResponse,
  UpdateNodeRequest,
  UpdateNodeResponse,
  UpdateServiceRequest,
  UpdateServiceResponse,
  NetworkFilters,
  CreateNetworkRequest,
  CreateNetworkResponse,
  GetNetworkRequest,
  GetNetworkResponse,
  ListNetworksRequest,
  CreateDashboardLoginRequest,
  CreateDashboardLoginResponse,
  RedeemDashboardLoginRequest,
  RedeemDashboardLoginResponse,
  ListDashboardSessionsRequest,
  ListDashboardSessionsResponse,
  DashboardSessionInfo,
  RevokeDashboardSessionsRequest,
  RevokeDashboardSessionsResponse,
  ListNetworksResponse,
  RemoveNetworkRequest,
  RemoveNetworkResponse,
  type ControlServer,
} from "./gen/shoal/v1/control.js";

export {
  AssignmentAction,
  AssignmentChange,
  AssignmentsRequest,
  AssignmentsResponse,
  AssignmentsType,
  DispatcherClient,
  DispatcherService,
  HeartbeatRequest,
  HeartbeatResponse,
  ReportImagePullRequest,
  ReportImagePullResponse,
  SessionRequest,
  SessionResponse,
  TaskStatusUpdate,
  UpdateTaskStatusRequest,
  UpdateTaskStatusResponse,
  WeightedPeer,
  NetworkState,
  NetworkPeer,
  NetworkEndpoint,
  NetworkService,
  type DispatcherServer,
} from "./gen/shoal/v1/dispatcher.js";

export { ImagePull, ImagePullLine, RegistryAuth } from "./gen/shoal/v1/images.js";

export {
  GetRootCACertificateRequest,
  GetRootCACertificateResponse,
  IssueNodeCertificateRequest,
  IssueNodeCertificateResponse,
  NodeCAClient,
  NodeCAService,
  RevokedCertificate,
  RootCA,
  RootCARotation,
  type NodeCAServer,
} from "./gen/shoal/v1/ca.js";

export {
  ConfChange,
  ConfChangeType,
  ConfState,
  InternalRaftRequest,
  JoinRequest,
  JoinResponse,
  LeaveRequest,
  LeaveResponse,
  ProcessRaftMessageRequest,
  ProcessRaftMessageResponse,
  RaftEntry,
  RaftEntryType,
  RaftMember,
  RaftMembershipClient,
  RaftMembershipService,
  RaftMessage,
  RaftMessageType,
  RaftSnapshot,
  RaftSnapshotData,
  RaftSnapshotMetadata,
  RaftTransportClient,
  RaftTransportService,
  ResolveAddressRequest,
  ResolveAddressResponse,
  StoreAction,
  StoreActionKind,
  StreamRaftMessageRequest,
  StreamRaftMessageResponse,
  type RaftMembershipServer,
  type RaftTransportServer,
} from "./gen/shoal/v1/raft.js";

export {
  ListenSubscriptionsRequest,
  ListenSubscriptionsResponse,
  LogContext,
  LogMessage,
  LogOptions,
  LogSelector,
  LogStream,
  LogSubscription,
  LogTimestamp,
  LogsClient,
  LogsService,
  PublishLogsRequest,
  PublishLogsResponse,
  SubscribeLogsRequest,
  SubscribeLogsResponse,
  type LogsServer,
} from "./gen/shoal/v1/logs.js";

export {
  Event,
  EventAction,
  EventType,
  EventsClient,
  EventsService,
  FieldChange,
  WatchEventsRequest,
  WatchEventsResponse,
  type EventsServer,
} from "./gen/shoal/v1/events.js";

export {
  AttachConfig,
  AuditRecord,
  ContainerCallError,
  ContainerCallExit,
  ContainerCallOpen,
  ContainerCallRequest,
  ContainerCallResponse,
  ContainerCallStarted,
  ContainerOp,
  ContainerOutputChunk,
  ContainerOutputStream,
  ContainersClient,
  ContainersService,
  ExecConfig,
  ListenContainerCallsRequest,
  ListenContainerCallsResponse,
  ServeContainerCallRequest,
  ServeContainerCallResponse,
  StatsConfig,
  TerminalSize,
  TopConfig,
  type ContainersServer,
} from "./gen/shoal/v1/containers.js";

export {
  BackupClient,
  BackupHeader,
  BackupService,
  CreateBackupRequest,
  CreateBackupResponse,
  type BackupServer,
} from "./gen/shoal/v1/backup.js";

/** The mode oneof of a ServiceSpec, once set. */
export type ServiceMode = NonNullable<ServiceSpec["mode"]>;

/** The target oneof of a StoreAction, once set. */
export type StoreActionTarget = NonNullable<StoreAction["target"]>;

/** Converts milliseconds to a Duration (rounded to whole nanoseconds). */
export function durationFromMs(ms: number): Duration {
  let seconds = Math.trunc(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (Math.abs(nanos) >= 1e9) {
    seconds += Math.sign(nanos);
    nanos -= Math.sign(nanos) * 1e9;
  }
  return { seconds: seconds + 0, nanos: nanos + 0 }; // + 0 turns -0 into 0
}

/** Converts a Duration to milliseconds; an unset one gives `fallbackMs`. */
export function durationToMs(d: Duration | undefined, fallbackMs: number): number {
  return d === undefined ? fallbackMs : d.seconds * 1000 + d.nanos / 1e6;
}
