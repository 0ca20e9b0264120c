// The manager starts listening once its services are registered: the bound address (port 0 picks
// one) and the address it advertises to the other managers and agents, which must be reachable.
import { ErrorCode, ShoalError, type TlsMaterial } from "@shoal/shared";
import type { Component } from "../lifecycle/component.js";

export interface ServerListenerOptions {
  readonly server: { bind(listen: string, material: TlsMaterial): Promise<string> };
  /** HOST:PORT to listen on. */
  readonly listen: string;
  /** HOST:PORT others reach this manager on; default: the bound address. */
  readonly advertise?: string | undefined;
  readonly credentials: { readonly material: TlsMaterial };
}

export class ServerListener implements Component {
  readonly name = "listen";
  private bound = "";
  private advertised = "";

  constructor(private readonly options: ServerListenerOptions) {}

  /** The address listened on, once bound ("" before). */
  get address(): string {
    return this.bound;
  }

  /** The address advertised, once bound. */
  get advertise(): string {
    if (this.advertised === "") throw new Error("the manager does not listen yet");
    return this.advertised;
  }

  async run(): Promise<void> {
    const { server, listen, credentials } = this.options;
    this.bound = await server.bind(listen, credentials.material);
    const advertise = this.options.advertise ?? this.bound;
    if (/^0\.0\.0\.0:|^\[::\]:/.test(advertise)) {
      throw new ShoalError(
        ErrorCode.InvalidArgument,
        `--advertise is needed: ${advertise} is not an address other managers can reach`,
      );
    }
    this.advertised = advertise;
  }

  /** The server shuts itself down (ManagerServer, last). */
  stop(): void {}
}
