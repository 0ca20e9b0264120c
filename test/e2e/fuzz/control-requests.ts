// fast-check arbitraries for Control API requests: ServiceSpec-, NodeSpec- and ClusterSpec-shaped
// objects that mix sane values with bad ones (invalid names, labels, images and constraints, huge
// strings, negative and out-of-range numbers, unknown enum values, NaN and Infinity ratios, odd
// durations, unknown ids), and raw protobuf bytes (garbage, truncated or bit-flipped encodings,
// deeply nested groups, integers beyond 2^53). Requests are encoded by the test, so a value that
// protobuf cannot carry is skipped rather than sent.
import fc from "fast-check";

/** Ids the test knows of in the running manager (a service, a node, the cluster). */
export interface KnownIds {
  readonly serviceId: string;
  readonly serviceName: string;
  readonly nodeId: string;
  readonly clusterId: string;
}

const HUGE = 200_000;

/** Strings likely to break a validator: empty, blank, huge, control characters, unicode, near-valid. */
export const nastyString = (valid: readonly string[] = []): fc.Arbitrary<string> =>
  fc.oneof(
    ...(valid.length > 0 ? [{ weight: 3, arbitrary: fc.constantFrom(...valid) }] : []),
    { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
    { weight: 1, arbitrary: fc.constantFrom("", " ", "-", "a b", "a\nb", "\0", "..", "/", "x".repeat(64), "é") },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: HUGE }).map((n) => "a".repeat(n)) },
  );

const serviceName = nastyString(["web", "fuzz-svc", "a", "a_b-c9"]);
const image = nastyString(["shoal-base:1", "busybox", "registry:5000/a/b:tag", "a@sha256:" + "0".repeat(64)]);
const labelKey = nastyString(["app", "com.example.tier", "a/b"]);
const labels = fc.dictionary(labelKey, nastyString(["x", ""]), { maxKeys: 4 });
const constraint = nastyString([
  "node.role==manager",
  "node.role!=worker",
  "node.labels.zone==a",
  "engine.labels.os==linux",
  "node.hostname==h1",
  "node.role==king",
  "node.labels.==x",
  "==",
]);

/** Integers around the edges of int32, uint32, 2^53 and 2^64 (as JavaScript numbers). */
const edgeInt = fc.oneof(
  fc.integer({ min: -3, max: 10 }),
  fc.constantFrom(-1, -(2 ** 31), 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 63, 1e6, 100_001),
  fc.integer(),
);
const unsignedInt = fc.oneof(fc.nat({ max: 10 }), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 62));
const enumValue = fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: -5, max: 1000 }));
const duration = fc.option(
  fc.record({
    seconds: fc.oneof(fc.integer({ min: -10, max: 100 }), fc.constantFrom(-(2 ** 40), 2 ** 40, 315_576_000_001)),
    nanos: fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(-1, 1_000_000_000, 2 ** 31 - 1)),
  }),
  { nil: undefined },
);
const ratio = fc.oneof(fc.constantFrom(0, 0.5, 1), fc.float({ noDefaultInfinity: false, noNaN: false }));

const resources = fc.option(fc.record({ nanoCpus: edgeInt, memoryBytes: edgeInt }), { nil: undefined });

const updateConfig = fc.option(
  fc.record({
    parallelism: unsignedInt,
    delay: duration,
    failureAction: enumValue,
    monitor: duration,
    maxFailureRatio: ratio,
    order: enumValue,
  }),
  { nil: undefined },
);

export const serviceSpec = fc.record(
  {
    annotations: fc.record({ name: serviceName, labels }),
    taskTemplate: fc.record(
      {
        container: fc.record(
          {
            image,
            command: fc.array(nastyString(["sleep"]), { maxLength: 3 }),
            args: fc.array(nastyString(["3600"]), { maxLength: 3 }),
            env: fc.array(nastyString(["A=1", "B="]), { maxLength: 3 }),
            labels,
            dir: nastyString(["/", "/tmp"]),
            user: nastyString(["root", "1000:1000"]),
            healthcheck: fc.option(
              fc.record({
                test: fc.array(nastyString(["CMD", "NONE", "CMD-SHELL"]), { maxLength: 3 }),
                interval: duration,
                timeout: duration,
                startPeriod: duration,
                retries: edgeInt,
              }),
              { nil: undefined },
            ),
            stopSignal: nastyString(["SIGTERM", "9", "KILL"]),
            stopGracePeriod: duration,
          },
          { requiredKeys: ["image"] },
        ),
        resources: fc.option(fc.record({ limits: resources, reservations: resources }), { nil: undefined }),
        restartPolicy: fc.option(
          fc.record({ condition: enumValue, delay: duration, maxAttempts: unsignedInt, window: duration }),
          { nil: undefined },
        ),
        placement: fc.option(
          fc.record({
            constraints: fc.array(constraint, { maxLength: 3 }),
            preferences: fc.array(
              fc.record({
                preference: fc.record({
                  $case: fc.constant("spread" as const),
                  value: fc.record({ spreadDescriptor: nastyString(["node.labels.zone", "node.id"]) }),
                }),
              }),
              { maxLength: 2 },
            ),
            maxReplicasPerNode: unsignedInt,
          }),
          { nil: undefined },
        ),
        forceUpdate: unsignedInt,
      },
      { requiredKeys: ["container"] },
    ),
    mode: fc.option(
      fc.oneof(
        fc.record({ $case: fc.constant("replicated" as const), value: fc.record({ replicas: unsignedInt }) }),
        fc.constant({ $case: "global" as const, value: {} }),
      ),
      { nil: undefined },
    ),
    updateConfig,
    rollbackConfig: updateConfig,
    endpoint: fc.option(
      fc.record({
        ports: fc.array(
          fc.record({
            name: nastyString(["http"]),
            protocol: enumValue,
            targetPort: fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constantFrom(80, 2 ** 32 - 1)),
            publishedPort: fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constantFrom(0, 8080, 2 ** 32 - 1)),
            publishMode: enumValue,
          }),
          { maxLength: 3 },
        ),
      }),
      { nil: undefined },
    ),
  },
  { requiredKeys: [] },
);

export const nodeSpec = fc.record(
  {
    annotations: fc.record({ name: nastyString(["n1"]), labels }),
    desiredRole: enumValue,
    availability: enumValue,
  },
  { requiredKeys: [] },
);

export const clusterSpec = fc.record(
  {
    annotations: fc.record({ name: nastyString(["default"]), labels }),
    orchestration: fc.record({ taskHistoryRetentionLimit: unsignedInt }),
    raft: fc.record({ snapshotInterval: unsignedInt }),
    dispatcher: fc.record({ heartbeatPeriod: duration, gracePeriod: duration }),
    caConfig: fc.record({ nodeCertExpiry: duration }),
  },
  { requiredKeys: [] },
);

const version = (current: () => number) =>
  fc.option(
    fc.oneof(
      fc.constant(undefined).map(() => ({ index: current() })),
      fc.record({ index: unsignedInt }),
    ),
    { nil: undefined },
  );

/** A reference to an object: the known one (by id, name or id prefix), or something unknown. */
const ref = (id: string, name: string): fc.Arbitrary<string> =>
  fc.oneof(fc.constantFrom(id, name, id.slice(0, 5)), nastyString(["nosuchthing", "0", id + "x"]));

export type ControlMethod =
  | "getInfo"
  | "getNode"
  | "listNodes"
  | "updateNode"
  | "removeNode"
  | "getService"
  | "listServices"
  | "createService"
  | "updateService"
  | "removeService"
  | "getTask"
  | "listTasks"
  | "getCluster"
  | "listClusters"
  | "updateCluster";

export const WRITES: ReadonlySet<ControlMethod> = new Set([
  "updateNode",
  "removeNode",
  "createService",
  "updateService",
  "removeService",
  "updateCluster",
]);

export interface ControlCase {
  readonly method: ControlMethod;
  readonly request: unknown;
}

/** Versions are read when the request is made: a request with the current one gets past the version check. */
export interface CurrentVersions {
  service(): number;
  node(): number;
  cluster(): number;
}

export function controlCase(ids: KnownIds, versions: CurrentVersions): fc.Arbitrary<ControlCase> {
  const service = ref(ids.serviceId, ids.serviceName);
  const node = ref(ids.nodeId, ids.nodeId);
  const cluster = fc.oneof(fc.constant(""), ref(ids.clusterId, "default"));
  const filterStrings = fc.array(nastyString([ids.serviceId, ids.serviceName]), { maxLength: 3 });
  const c = <M extends ControlMethod>(method: M, request: fc.Arbitrary<unknown>): fc.Arbitrary<ControlCase> =>
    request.map((r) => ({ method, request: r }));
  return fc.oneof(
    { weight: 6, arbitrary: c("createService", fc.record({ spec: fc.option(serviceSpec, { nil: undefined }) })) },
    {
      weight: 4,
      arbitrary: c(
        "updateService",
        fc.record({
          serviceId: service,
          serviceVersion: version(versions.service),
          spec: fc.option(serviceSpec, { nil: undefined }),
          rollback: fc.boolean(),
        }),
      ),
    },
    {
      weight: 2,
      arbitrary: c(
        "updateNode",
        fc.record({
          nodeId: node,
          nodeVersion: version(versions.node),
          spec: fc.option(nodeSpec, { nil: undefined }),
        }),
      ),
    },
    {
      weight: 2,
      arbitrary: c(
        "updateCluster",
        fc.record({
          clusterId: cluster,
          clusterVersion: version(versions.cluster),
          spec: fc.option(clusterSpec, { nil: undefined }),
          rotation: fc.constant(undefined),
        }),
      ),
    },
    c("removeService", fc.record({ serviceId: nastyString(["nosuchthing", ids.serviceId + "x"]) })),
    c("removeNode", fc.record({ nodeId: nastyString(["nosuchthing"]), force: fc.constant(false) })),
    c("getService", fc.record({ serviceId: service })),
    c("getNode", fc.record({ nodeId: node })),
    c("getTask", fc.record({ taskId: nastyString(["nosuchtask"]) })),
    c("getCluster", fc.record({ clusterId: cluster })),
    c(
      "listServices",
      fc.record({
        filters: fc.option(
          fc.record({ names: filterStrings, namePrefixes: filterStrings, idPrefixes: filterStrings, labels }),
          { nil: undefined },
        ),
      }),
    ),
    c(
      "listTasks",
      fc.record({
        filters: fc.option(
          fc.record({
            idPrefixes: filterStrings,
            serviceIds: filterStrings,
            nodeIds: filterStrings,
            desiredStates: fc.array(enumValue, { maxLength: 3 }),
          }),
          { nil: undefined },
        ),
      }),
    ),
    c("listNodes", fc.record({ filters: fc.constant(undefined) })),
  );
}

// ---- raw protobuf bytes ----------------------------------------------------------------------

function varint(n: bigint): number[] {
  const out: number[] = [];
  let v = n;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

/** Start-group tags (wire type 3) nested `depth` deep, then their end tags: recursion bait for decoders. */
function nestedGroups(field: number, depth: number): Buffer {
  const start = varint(BigInt((field << 3) | 3));
  const end = varint(BigInt((field << 3) | 4));
  return Buffer.from([
    ...Array.from({ length: depth }, () => start).flat(),
    ...Array.from({ length: depth }, () => end).flat(),
  ]);
}

/**
 * Bytes for a request of some method: garbage, a valid encoding damaged (truncated, a byte flipped,
 * bytes appended), a varint beyond 2^53 where a uint64 is expected, or deeply nested groups.
 */
export function rawBytes(encoded: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    encoded.chain((b) =>
      b.length === 0
        ? fc.constant(Buffer.from([0x08, 0xff]))
        : fc.oneof(
            fc.integer({ min: 0, max: b.length - 1 }).map((n) => b.subarray(0, n)),
            fc
              .tuple(fc.integer({ min: 0, max: b.length - 1 }), fc.integer({ min: 1, max: 255 }))
              .map(([i, x]) => Buffer.from(b.map((byte, j) => (j === i ? byte ^ x : byte)))),
            fc.uint8Array({ minLength: 1, maxLength: 16 }).map((a) => Buffer.concat([b, Buffer.from(a)])),
          ),
    ),
    // Field 1 as a varint of 2^60 (a uint64 beyond what a JavaScript number holds exactly), or as
    // the wrong wire type; field numbers no message has.
    fc.constantFrom(
      Buffer.from([0x08, ...varint(2n ** 60n)]),
      Buffer.from([0x0d, 1, 2, 3, 4]),
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      Buffer.from([...varint(536_870_911n << 3n), 0]),
      Buffer.from([0x0a, 0x02, 0xc3, 0x28]),
    ),
    fc.integer({ min: 1, max: 5 }).map((f) => nestedGroups(f, 20_000)),
  );
}
