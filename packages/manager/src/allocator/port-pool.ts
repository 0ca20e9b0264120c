// The cluster's ingress published ports: which service holds each (port and protocol), and the
// next one to give from the dynamic range to a port published as 0, in order after the last one
// given (wrapping around), as addresses are.
import type { PortProtocol } from "@shoal/shared";
import { portKey, portName } from "../scheduler/task-rules.js";

/** Docker's (and Swarm's) range for published ports the cluster picks. */
export const DYNAMIC_PORT_LOW = 30_000;
export const DYNAMIC_PORT_HIGH = 32_767;

export class PortPool {
  /** portKey -> service id. */
  private readonly used = new Map<number, string>();
  /** Per protocol, the port given last. */
  private readonly cursor = new Map<PortProtocol, number>();

  /** The service holding the port, if any. */
  holder(protocol: PortProtocol, port: number): string | undefined {
    return this.used.get(portKey(protocol, port));
  }

  /** Records that `serviceId` holds the port; false if another service does. */
  claim(protocol: PortProtocol, port: number, serviceId: string): boolean {
    const key = portKey(protocol, port);
    const holder = this.used.get(key);
    if (holder !== undefined) return holder === serviceId;
    this.used.set(key, serviceId);
    return true;
  }

  release(protocol: PortProtocol, port: number, serviceId: string): void {
    const key = portKey(protocol, port);
    if (this.used.get(key) === serviceId) this.used.delete(key);
  }

  /** Gives `serviceId` the next free port of the dynamic range; undefined when none is left. */
  take(protocol: PortProtocol, serviceId: string): number | undefined {
    let port = this.cursor.get(protocol) ?? DYNAMIC_PORT_LOW - 1;
    for (let i = 0; i <= DYNAMIC_PORT_HIGH - DYNAMIC_PORT_LOW; i++) {
      port = port >= DYNAMIC_PORT_HIGH || port < DYNAMIC_PORT_LOW ? DYNAMIC_PORT_LOW : port + 1;
      if (this.used.has(portKey(protocol, port))) continue;
      this.cursor.set(protocol, port);
      this.used.set(portKey(protocol, port), serviceId);
      return port;
    }
    return undefined;
  }

  /** After a rebuild: the next port given comes after the highest dynamic one held, per protocol. */
  startAfterHighest(): void {
    this.cursor.clear();
    for (const key of this.used.keys()) {
      const port = key % 65_536;
      const protocol = (key - port) / 65_536;
      if (port < DYNAMIC_PORT_LOW || port > DYNAMIC_PORT_HIGH) continue;
      if (port > (this.cursor.get(protocol) ?? 0)) this.cursor.set(protocol, port);
    }
  }
}

export { portName };
