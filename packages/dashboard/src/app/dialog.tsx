// The confirmation every action goes through: what will happen, Confirm or Cancel, and the
// server's refusal if it refuses.
import { signal } from "@preact/signals";

interface Pending {
  readonly title: string;
  readonly text: string;
  readonly run: () => Promise<unknown>;
}

const pending = signal<Pending | undefined>(undefined);
const busy = signal(false);
const failure = signal("");

/** Asks to confirm, then runs the action; the dialog stays open with the error if it fails. */
export function confirmAction(title: string, text: string, run: () => Promise<unknown>): void {
  failure.value = "";
  busy.value = false;
  pending.value = { title, text, run };
}

async function confirm(action: Pending): Promise<void> {
  busy.value = true;
  failure.value = "";
  try {
    await action.run();
    pending.value = undefined;
  } catch (error) {
    failure.value = (error as Error).message;
  } finally {
    busy.value = false;
  }
}

export function ConfirmDialog() {
  const action = pending.value;
  if (!action) return null;
  return (
    <div class="overlay">
      <div class="dialog" role="dialog" aria-modal="true" data-testid="confirm-dialog">
        <h2>{action.title}</h2>
        <p>{action.text}</p>
        {failure.value && (
          <p class="error" data-testid="confirm-error">
            {failure.value}
          </p>
        )}
        <div class="buttons">
          <button type="button" data-testid="confirm-cancel" onClick={() => (pending.value = undefined)}>
            Cancel
          </button>
          <button
            type="button"
            class="primary"
            data-testid="confirm-ok"
            disabled={busy.value}
            onClick={() => void confirm(action)}
          >
            Confirm
          </button>
        </div>
      </div>
    </div>
  );
}
