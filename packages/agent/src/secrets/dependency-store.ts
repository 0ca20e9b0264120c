// The secrets and configs the managers sent this node, by id, in memory only: the agent keeps
// them for the tasks that use them and never writes them to its data dir. The dispatcher sends
// them in the assignments stream (AssignmentChange.secret / .config) before the tasks that use
// them, and a REMOVE carrying only the id once no task of the node uses them. Nothing here logs:
// a secret's data must never reach a log line.
import { AssignmentAction, type AssignmentChange, type Config, type Secret } from "@shoal/shared";

/** What a controller reads to make a task's files. */
export interface Dependencies {
  secret(id: string): Secret | undefined;
  config(id: string): Config | undefined;
}

export class DependencyStore implements Dependencies {
  private readonly secrets = new Map<string, Secret>();
  private readonly configs = new Map<string, Config>();

  secret(id: string): Secret | undefined {
    return this.secrets.get(id);
  }

  config(id: string): Config | undefined {
    return this.configs.get(id);
  }

  /** The ids held, sorted: for tests and counts (never the data). */
  secretIds(): string[] {
    return [...this.secrets.keys()].sort();
  }

  configIds(): string[] {
    return [...this.configs.keys()].sort();
  }

  /** Applies one change about a secret or a config; false when the change is about neither. */
  apply(change: AssignmentChange): boolean {
    const remove = change.action === AssignmentAction.REMOVE;
    if (change.secret !== undefined) {
      if (remove) this.secrets.delete(change.secret.id);
      else this.secrets.set(change.secret.id, change.secret);
      return true;
    }
    if (change.config !== undefined) {
      if (remove) this.configs.delete(change.config.id);
      else this.configs.set(change.config.id, change.config);
      return true;
    }
    return false;
  }

  /** A full set of assignments: its secrets and configs replace those held. */
  replace(changes: readonly AssignmentChange[]): void {
    this.secrets.clear();
    this.configs.clear();
    for (const change of changes) if (change.action === AssignmentAction.UPDATE) this.apply(change);
  }
}
