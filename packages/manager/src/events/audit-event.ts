// An exec or attach on a task container, as the Raft log records it (AuditRecord), as an
// operator's event: type EXEC, action CREATE, the task's id and name, and who ran what where.
import { EventAction, EventType, type AuditRecord, type Event } from "@shoal/shared";

/** The event of an audit record applied at raft index `index`; `now` dates a record without a time. */
export function auditEvent(record: AuditRecord, index: number, now: Date): Event {
  return {
    type: EventType.EXEC,
    action: EventAction.CREATE,
    id: record.taskId,
    name: record.taskName,
    time: record.time ?? now,
    index,
    changes: [],
    attributes: {
      operation: record.action,
      caller: record.caller,
      task_id: record.taskId,
      service_id: record.serviceId,
      node_id: record.nodeId,
      container_id: record.containerId,
      cmd: record.cmd.join(" "),
    },
  };
}
