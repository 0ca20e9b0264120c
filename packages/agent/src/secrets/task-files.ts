// The files of one task's secrets and configs on the node, in the agent's memory-backed
// directory (memory-dir.ts): DIR/<task id>/secrets/<n>-<id> and DIR/<task id>/configs/<n>-<id>,
// each with the owner and mode its reference asks for. Written when the task's container is
// created (and again before a created container starts, after an agent restart emptied the
// directory); removed once the container has stopped for good or is removed, so that nothing of
// a secret stays on the node when no task uses it.
import { chmod, chown, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, errorMessage, type Logger, type Task } from "@shoal/shared";
import { ExecError, ExecErrorReason } from "../exec/errors.js";
import type { Dependencies } from "./dependency-store.js";
import {
  mountMemoryDir,
  prepareMemoryDir,
  unmountMemoryDir,
  type MemoryDir,
  type MemoryDirOptions,
} from "./memory-dir.js";
import { resolveTaskFiles, taskFileRefs, type ResolvedFile } from "./references.js";

/** A file of the task on the node and where the container sees it. */
export interface TaskFile {
  /** The file on the node. */
  readonly source: string;
  /** The absolute path in the container. */
  readonly target: string;
}

function filesError(task: Task, message: string): ExecError {
  return new ExecError(ErrorCode.FailedPrecondition, ExecErrorReason.TaskFiles, `task ${task.id}: ${message}`);
}

export class TaskFiles {
  /** The tmpfs mount made before the first file, when one is needed: its problem, if any. */
  private mounting: Promise<string | undefined> | undefined;
  private mounted = false;

  private constructor(
    private readonly memory: MemoryDir,
    private readonly options: MemoryDirOptions,
  ) {}

  /** Prepares the directory (checked, emptied); never fails: a problem is kept for the tasks. */
  static async open(options: MemoryDirOptions): Promise<TaskFiles> {
    return new TaskFiles(await prepareMemoryDir(options), options);
  }

  get dir(): string {
    return this.memory.dir;
  }

  private get logger(): Logger {
    return this.options.logger;
  }

  /** Why tasks that use secrets fail on this node (mounting the tmpfs first if need be); undefined when they can run. */
  async problem(): Promise<string | undefined> {
    if (this.memory.problem !== undefined || !this.memory.needsMount) return this.memory.problem;
    this.mounting ??= mountMemoryDir(this.memory, this.logger, this.options.sizeBytes).then((problem) => {
      this.mounted = problem === undefined;
      if (problem !== undefined) this.logger.warn({ dir: this.dir, problem }, "tasks that use secrets will fail");
      return problem;
    });
    return this.mounting;
  }

  /**
   * Writes the files of `task`'s secrets and configs (found in `dependencies`) and returns them;
   * [] for a task that uses none. Throws a fatal ExecError naming the secret or config this
   * node lacks, or saying why its file cannot be written.
   */
  async write(task: Task, dependencies: Dependencies | undefined): Promise<TaskFile[]> {
    if (taskFileRefs(task).length === 0) return [];
    const files = resolveTaskFiles(task, dependencies);
    const problem = await this.problem();
    if (problem !== undefined) throw filesError(task, `cannot make the files of its secrets and configs: ${problem}`);
    const dir = this.taskDir(task);
    const written: TaskFile[] = [];
    for (const [index, file] of files.entries()) {
      const sub = join(dir, file.kind === "secret" ? "secrets" : "configs");
      const source = join(sub, `${index}-${file.id}`);
      try {
        await mkdir(sub, { recursive: true, mode: 0o700 });
        await writeOwned(source, file);
      } catch (err: unknown) {
        if (err instanceof ExecError) throw err;
        throw filesError(task, `writing the file of ${file.kind} "${file.name}" (${file.field}): ${errorMessage(err)}`);
      }
      written.push({ source, target: file.target });
    }
    return written;
  }

  /** Removes the task's files (if any); logs rather than throws. */
  async release(task: Task): Promise<void> {
    try {
      await rm(this.taskDir(task), { recursive: true, force: true });
    } catch (err: unknown) {
      this.logger.warn({ taskId: task.id, err: errorMessage(err) }, "cannot remove the files of a task's secrets");
    }
  }

  /** Unmounts the tmpfs the agent mounted, if it did. */
  async close(): Promise<void> {
    await this.mounting;
    if (this.mounted) await unmountMemoryDir(this.dir, this.logger);
    this.mounted = false;
  }

  private taskDir(task: Task): string {
    if (!/^[A-Za-z0-9_-]+$/.test(task.id)) throw filesError(task, "a task id unfit for a directory name");
    return join(this.memory.dir, task.id);
  }
}

/** Writes `file` afresh with its owner and mode (an agent that is not root keeps its own). */
async function writeOwned(source: string, file: ResolvedFile): Promise<void> {
  await rm(source, { force: true });
  await writeFile(source, file.data, { mode: 0o600, flag: "wx" });
  const root = process.getuid?.() === 0;
  if (root) await chown(source, file.uid, file.gid);
  else if ((file.uid !== 0 && file.uid !== process.getuid?.()) || (file.gid !== 0 && file.gid !== process.getgid?.())) {
    throw new ExecError(
      ErrorCode.FailedPrecondition,
      ExecErrorReason.TaskFiles,
      `${file.field}.file: cannot give the file to ${file.uid}:${file.gid}: the agent does not run as root`,
    );
  }
  await chmod(source, file.mode);
}

/** `files.write`, for an executor that may have no directory for secrets (then such tasks fail). */
export async function writeTaskFiles(
  files: TaskFiles | undefined,
  task: Task,
  dependencies: Dependencies | undefined,
): Promise<TaskFile[]> {
  if (files !== undefined) return files.write(task, dependencies);
  if (taskFileRefs(task).length === 0) return [];
  resolveTaskFiles(task, dependencies);
  throw filesError(task, "this agent has no directory for the files of secrets and configs");
}
