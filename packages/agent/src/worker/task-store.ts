// Where the worker keeps the tasks it was assigned, with their latest status, so that a
// restarted agent knows what it ran before its first assignments arrive. A file in the agent's
// data dir, written whole to a temporary name, synced and renamed; and an in-memory twin.
import { open, readFile, rename } from "node:fs/promises";
import { Task, errorMessage, type Logger } from "@shoal/shared";

export interface TaskStore {
  /** The tasks saved last; none when nothing was saved (or it cannot be read). */
  load(): Promise<Task[]>;
  /** Replaces what is saved. */
  save(tasks: readonly Task[]): Promise<void>;
}

interface TaskFile {
  readonly version: 1;
  readonly tasks: unknown[];
}

export class FileTaskStore implements TaskStore {
  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {}

  async load(): Promise<Task[]> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      this.logger.warn({ file: this.file, err: errorMessage(err) }, "cannot read the saved tasks");
      return [];
    }
    try {
      const parsed = JSON.parse(text) as Partial<TaskFile>;
      if (parsed.version !== 1 || !Array.isArray(parsed.tasks)) throw new Error("not a task file of version 1");
      return parsed.tasks.map((t) => Task.fromJSON(t)).filter((t) => t.id !== "");
    } catch (err: unknown) {
      this.logger.warn({ file: this.file, err: errorMessage(err) }, "ignoring an unreadable task file");
      return [];
    }
  }

  async save(tasks: readonly Task[]): Promise<void> {
    const body: TaskFile = { version: 1, tasks: tasks.map((t) => Task.toJSON(t)) };
    const tmp = `${this.file}.tmp`;
    const handle = await open(tmp, "w", 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(body)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.file);
  }
}

/** Keeps the tasks in memory: for tests, and agents that need no restart memory. */
export class MemoryTaskStore implements TaskStore {
  private tasks: Task[] = [];
  /** How many saves; for tests. */
  saves = 0;

  constructor(tasks: readonly Task[] = []) {
    this.tasks = tasks.map((t) => structuredClone(t));
  }

  async load(): Promise<Task[]> {
    return this.tasks.map((t) => structuredClone(t));
  }

  async save(tasks: readonly Task[]): Promise<void> {
    this.saves++;
    this.tasks = tasks.map((t) => structuredClone(t));
  }
}
