// A service's mounts in `service inspect --pretty`, as `docker service inspect --pretty` shows them.
import { MountType, type Mount } from "@shoal/shared";

const TYPE_NAMES: Record<MountType, string> = {
  [MountType.BIND]: "bind",
  [MountType.VOLUME]: "volume",
  [MountType.TMPFS]: "tmpfs",
};

export function mountLines(mounts: readonly Mount[] | undefined): string[] {
  if (mounts === undefined || mounts.length === 0) return [];
  return [
    "Mounts:",
    ...mounts.flatMap((m) => [
      ` Target:\t${m.target}`,
      `  Source:\t${m.source}`,
      `  ReadOnly:\t${m.readOnly}`,
      `  Type:\t\t${TYPE_NAMES[m.type] ?? String(m.type)}`,
    ]),
  ];
}
