// The services table: by id and by name; a service name is unique.
import { Service } from "@shoal/shared";
import { namedLookups, namedMatches, nonEmpty, ownDate, ownMetaDates, type NamedQuery } from "./query.js";
import { Table, type TableSchema } from "./table.js";

export type ServiceQuery = NamedQuery;

export function serviceName(service: Service): string | undefined {
  return nonEmpty(service.spec?.annotations?.name);
}

export function copyService(service: Service): Service {
  const copy = Service.fromPartial(service);
  ownMetaDates(copy.meta);
  if (copy.updateStatus !== undefined) {
    copy.updateStatus.startedAt = ownDate(copy.updateStatus.startedAt);
    copy.updateStatus.completedAt = ownDate(copy.updateStatus.completedAt);
  }
  return copy;
}

export const serviceSchema: TableSchema<Service, ServiceQuery> = {
  table: "services",
  kind: "service",
  indexes: [{ name: "name", key: serviceName }],
  uniqueName: serviceName,
  copy: copyService,
  lookups: namedLookups,
  matches: (service, q) => namedMatches(service.id, serviceName(service), q),
};

export function createServiceTable(): Table<Service, ServiceQuery> {
  return new Table(serviceSchema);
}
