// fast-check arbitraries for requests to the Docker Engine API endpoint: random and near-valid
// paths, methods and query strings; bodies that are random JSON, Docker-ServiceSpec-shaped JSON
// with bad values (wrong types, negative or huge numbers, numbers that parse as Infinity,
// unknown enum names, deep nesting), or not JSON at all; and odd content types.
import fc from "fast-check";
import { nastyString, type KnownIds } from "./control-requests.js";

export interface DockerCase {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: string | undefined;
}

const segment = fc.oneof(
  fc.constantFrom("nosuchthing", "%", "%E0%A4%A", "%00", "..", "a%2Fb", "ü", "x".repeat(300)),
  fc.stringMatching(/^[A-Za-z0-9._~%-]{0,16}$/),
);

/** A JSON text nested `depth` arrays or objects deep. */
const deep = (depth: number, open: string, close: string): string => open.repeat(depth) + close.repeat(depth);

const number = fc.oneof(
  fc.integer({ min: -3, max: 10 }),
  fc.constantFrom(-1, 0.5, 2 ** 53 + 2, 1e20, -1e20, 1e308),
  fc.double(),
);
/** Numbers as JSON text: some parse as Infinity or lose precision. */
const numberText = fc.oneof(
  number.map((n) => (Number.isFinite(n) ? String(n) : "1e999")),
  fc.constantFrom("1e999", "-1e999", "1e-999", "123456789012345678901234567890"),
);

const labelsJson = fc.oneof(
  fc.dictionary(nastyString(["app"]), nastyString(["x"]), { maxKeys: 3 }).map((d) => JSON.stringify(d)),
  fc.constantFrom('{"a":1}', '{"a":null}', "[]", '"x"', '{"a":{"b":"c"}}'),
);

function dockerServiceSpec(ids: KnownIds): fc.Arbitrary<string> {
  const str = (valid: string[]) => nastyString(valid).map((s) => JSON.stringify(s));
  const anyJson = fc.oneof(fc.json({ maxDepth: 3 }), fc.constantFrom(deep(5000, "[", "]"), deep(3000, '{"a":', "}")));
  const duration = fc.oneof(numberText, fc.constantFrom('"10s"', "true", "null"));
  const field = (name: string, value: fc.Arbitrary<string>) =>
    fc.option(
      value.map((v) => `"${name}":${v}`),
      { nil: undefined },
    );
  const object = (...fields: fc.Arbitrary<string | undefined>[]) =>
    fc.tuple(...fields).map((fs) => `{${fs.filter((f): f is string => f !== undefined).join(",")}}`);
  const update = object(
    field("Parallelism", numberText),
    field("Delay", duration),
    field("FailureAction", str(["pause", "rollback", "explode"])),
    field("Monitor", duration),
    field("MaxFailureRatio", numberText),
    field("Order", str(["start-first", "sideways"])),
  );
  return object(
    field("Name", str(["fuzz-docker", ids.serviceName, "bad name"])),
    field("Labels", labelsJson),
    field(
      "TaskTemplate",
      object(
        field(
          "ContainerSpec",
          object(
            field("Image", str(["shoal-base:1", "UPPER", ""])),
            field("Env", fc.constantFrom('["A=1"]', '["NOEQ"]', "[1]", '"A=1"')),
            field("Args", fc.constantFrom('["sleep","1"]', "[null]", "{}")),
            field("StopGracePeriod", duration),
            field("Healthcheck", object(field("Interval", duration), field("Retries", numberText))),
            field("Mounts", fc.constantFrom("[]", '[{"Type":"bind"}]')),
          ),
        ),
        field(
          "Resources",
          object(field("Limits", object(field("NanoCPUs", numberText), field("MemoryBytes", numberText)))),
        ),
        field(
          "RestartPolicy",
          object(
            field("Condition", str(["any", "sometimes"])),
            field("Delay", duration),
            field("MaxAttempts", numberText),
          ),
        ),
        field(
          "Placement",
          object(
            field(
              "Constraints",
              fc
                .array(str(["node.role==manager", "node.role==king", "nonsense"]), { maxLength: 2 })
                .map((a) => `[${a.join(",")}]`),
            ),
            field("MaxReplicas", numberText),
          ),
        ),
        field("ForceUpdate", numberText),
        field("Networks", anyJson),
      ),
    ),
    field(
      "Mode",
      fc.constantFrom(
        '{"Replicated":{}}',
        '{"Global":{}}',
        '{"Replicated":{"Replicas":-1}}',
        '{"Replicated":{"Replicas":1e999}}',
        '{"ReplicatedJob":{}}',
        '{"Replicated":{"Replicas":"3"}}',
      ),
    ),
    field("UpdateConfig", update),
    field("RollbackConfig", update),
    field("Networks", anyJson),
    field(
      "EndpointSpec",
      object(
        field("Mode", str(["vip", "dnsrr"])),
        field(
          "Ports",
          object(
            field("TargetPort", numberText),
            field("PublishedPort", numberText),
            field("Protocol", str(["tcp", "sctp"])),
            field("PublishMode", str(["host", "nowhere"])),
          ).map((p) => `[${p}]`),
        ),
      ),
    ),
    field("Unknown", anyJson),
  );
}

const body = (ids: KnownIds): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 4, arbitrary: dockerServiceSpec(ids) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(undefined, "", "{", "null", "[]", '"x"', "1e999", "\u0000", deep(100_000, "[", "]")),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(nastyString(["fuzz-net"]), labelsJson, fc.constantFrom('{"a":"b"}', deep(5000, '{"a":', "}")))
        .map(([name, labels, options]) => `{"Name":${JSON.stringify(name)},"Labels":${labels},"Options":${options}}`),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          nastyString(["n1"]),
          fc.constantFrom('"worker"', '"manager"', '"king"', "1"),
          fc.constantFrom('"active"', '"drain"', '"sleep"', "null"),
          labelsJson,
        )
        .map(
          ([name, role, availability, labels]) =>
            `{"Name":${JSON.stringify(name)},"Role":${role},"Availability":${availability},"Labels":${labels}}`,
        ),
    },
  );

const query = fc.oneof(
  fc.constant(""),
  fc.constantFrom(
    "?filters=%7B",
    '?filters={"name":["x"]}',
    '?filters={"name":"x"}',
    '?filters={"bogus":["x"]}',
    "?filters=%E0%A4%A",
    "?version=abc",
    "?version=-1",
    "?version=1e999",
    "?version=99999999999999999999",
    "?insertDefaults=maybe",
    "?rollback=previous",
    "?status=true",
    "?follow=1&tail=-5&since=x",
    "?a=%",
  ),
  fc.stringMatching(/^\?[A-Za-z0-9=&%]{0,20}$/),
);

export function dockerCase(ids: KnownIds): fc.Arbitrary<DockerCase> {
  const ref = fc.oneof(fc.constantFrom(ids.serviceId, ids.serviceName, ids.nodeId), segment);
  const path = fc.oneof(
    fc.constantFrom(
      "/services/create",
      "/networks/create",
      "/services",
      "/nodes",
      "/tasks",
      "/networks",
      "/info",
      "/_ping",
    ),
    ref.map((r) => `/services/${r}/update`),
    ref.map((r) => `/services/${r}`),
    ref.map((r) => `/nodes/${r}/update`),
    ref.map((r) => `/nodes/${r}`),
    ref.map((r) => `/tasks/${r}`),
    ref.map((r) => `/networks/${r}`),
    ref.map((r) => `/distribution/${r}/json`),
    fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`),
  );
  return fc.record({
    method: fc.constantFrom("GET", "POST", "POST", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS", "FUZZ"),
    path: fc
      .tuple(fc.constantFrom("", "/v1.41", "/v1.24", "/v9.99", "/v1.x"), path, query)
      .map(([v, p, q]) => `${v}${p}${q}`),
    contentType: fc.constantFrom(
      undefined,
      "application/json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/json; charset=latin1",
    ),
    body: body(ids),
  });
}

/** Whether a request can change the cluster (so a success is not compared with the state before). */
export function mayWrite(c: DockerCase): boolean {
  return c.method === "POST" || c.method === "DELETE";
}
