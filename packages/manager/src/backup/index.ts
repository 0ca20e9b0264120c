export {
  BACKUP_FORMAT_VERSION,
  BACKUP_MAGIC,
  BackupFileError,
  backupPrefix,
  readBackupFile,
  readBackupHeader,
} from "./backup-file.js";
export { backupHandlers, type BackupServerOptions } from "./backup-server.js";
export { checkBackupFile, restoreBackup, type RestoreOptions, type Restored } from "./restore.js";
