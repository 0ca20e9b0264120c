// Swarm's task templates: the Go-template placeholders that `docker service create` accepts in a
// container's hostname, env values and mount sources and targets ({{.Service.Name}},
// {{.Task.Slot}}, {{.Node.Hostname}}, ...), expanded by the agent for each task. Only what
// SwarmKit's template context offers is understood: a field of the context, `index` of the
// service's labels, and Go's `{{-`/`-}}` trimming. The Control API parses a spec's templates with
// the same parser, so a template that an agent could not expand is refused before it is stored.

/** The values a template can name, as SwarmKit's template.Context holds them. */
export interface TemplateContext {
  readonly service: { readonly id: string; readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly node: {
    readonly id: string;
    readonly hostname: string;
    readonly platform: { readonly os: string; readonly architecture: string };
  };
  readonly task: { readonly id: string; readonly name: string; readonly slot: string };
}

/** A template that cannot be parsed or names nothing in the context. */
export class TemplateError extends Error {
  override readonly name = "TemplateError";
}

type Part =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "field"; readonly path: string }
  | { readonly kind: "label"; readonly key: string };

/** The context's fields by their template path. */
const FIELDS: Record<string, (c: TemplateContext) => string> = {
  ".Service.ID": (c) => c.service.id,
  ".Service.Name": (c) => c.service.name,
  ".Service.Labels": (c) => goMap(c.service.labels),
  ".Node.ID": (c) => c.node.id,
  ".Node.Hostname": (c) => c.node.hostname,
  ".Node.Platform.OS": (c) => c.node.platform.os,
  ".Node.Platform.Architecture": (c) => c.node.platform.architecture,
  ".Task.ID": (c) => c.task.id,
  ".Task.Name": (c) => c.task.name,
  ".Task.Slot": (c) => c.task.slot,
};

/** How Go's text/template prints a map[string]string: `map[a:1 b:2]`, keys sorted. */
function goMap(m: Readonly<Record<string, string>>): string {
  const entries = Object.keys(m)
    .sort()
    .map((k) => `${k}:${m[k]}`);
  return `map[${entries.join(" ")}]`;
}

/** A Go string literal ("..." with simple escapes, or `...`), or undefined. */
function stringLiteral(s: string): string | undefined {
  if (/^`[^`]*`$/.test(s)) return s.slice(1, -1);
  if (!/^"(?:[^"\\]|\\.)*"$/.test(s)) return undefined;
  try {
    return JSON.parse(s) as string;
  } catch {
    return undefined;
  }
}

function parseAction(action: string): Part {
  if (action === "") throw new TemplateError("missing value for command ({{}})");
  if (FIELDS[action] !== undefined) return { kind: "field", path: action };
  const index = /^index\s+\.Service\.Labels\s+(\S.*)$/.exec(action);
  if (index) {
    const key = stringLiteral(index[1]!.trim());
    if (key === undefined) throw new TemplateError(`{{${action}}}: the label key must be a quoted string`);
    return { kind: "label", key };
  }
  if (action.startsWith(".")) throw new TemplateError(`{{${action}}}: ${action} is not a template field`);
  throw new TemplateError(`{{${action}}}: only the fields of .Service, .Node and .Task can be used`);
}

/** Parses `template`; throws TemplateError for unclosed braces or an unknown placeholder. */
function parse(template: string): Part[] {
  const parts: Part[] = [];
  let rest = template;
  for (;;) {
    const open = rest.indexOf("{{");
    if (open === -1) break;
    const close = rest.indexOf("}}", open + 2);
    if (close === -1) throw new TemplateError(`unclosed action: "${rest.slice(open)}" has no "}}"`);
    let text = rest.slice(0, open);
    let action = rest.slice(open + 2, close);
    let after = rest.slice(close + 2);
    // Go's trim markers: "{{- " trims the space before, " -}}" the space after.
    if (/^-\s/.test(action)) {
      text = text.trimEnd();
      action = action.slice(1);
    }
    if (/\s-$/.test(action)) {
      after = after.trimStart();
      action = action.slice(0, -1);
    }
    if (text !== "") parts.push({ kind: "text", text });
    parts.push(parseAction(action.trim()));
    rest = after;
  }
  if (rest !== "") parts.push({ kind: "text", text: rest });
  return parts;
}

/** Throws TemplateError when `template` is not one an agent can expand. */
export function checkTemplate(template: string): void {
  parse(template);
}

/** `template` with its placeholders replaced by the context's values. */
export function expandTemplate(template: string, context: TemplateContext): string {
  if (!template.includes("{{")) return template;
  return parse(template)
    .map((p) => {
      switch (p.kind) {
        case "text":
          return p.text;
        case "field":
          return FIELDS[p.path]!(context);
        case "label":
          return context.service.labels[p.key] ?? "";
      }
    })
    .join("");
}
