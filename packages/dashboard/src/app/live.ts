// Keeps the model live: /api/v1/state, then /api/v1/watch?since=INDEX, applying the batches that
// arrived during a frame together, once per animation frame. A resync, or a watch that ends,
// fetches the state again.
import { batch, signal } from "@preact/signals";
import type { ChangeBatch, StateSnapshot } from "../api.js";
import { HttpError, api, openStream, perFrame } from "./http.js";
import type { ClusterModel } from "./model.js";

/** "loading", "live", "reconnecting", or an error to show. */
export const liveStatus = signal("loading");
/** Set when the API refuses the session: the page then says how to log in. */
export const loggedOut = signal(false);

const RETRY_MS = 2000;

export function startLive(model: ClusterModel): void {
  let pending: ChangeBatch[] = [];
  let close: (() => void) | undefined;

  const applyPending = perFrame(() => {
    const batches = pending;
    pending = [];
    batch(() => {
      for (const change of batches) model.apply(change);
      model.flush();
    });
  });

  const connect = async (): Promise<void> => {
    close?.();
    pending = [];
    try {
      const snapshot = await api.get<StateSnapshot>("/api/v1/state");
      batch(() => model.load(snapshot));
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) {
        loggedOut.value = true;
        liveStatus.value = "logged out";
        return;
      }
      liveStatus.value = `reconnecting (${(error as Error).message})`;
      setTimeout(() => void connect(), RETRY_MS);
      return;
    }
    liveStatus.value = "live";
    close = openStream(
      `/api/v1/watch?since=${model.index}`,
      {
        change: (change: ChangeBatch) => {
          pending.push(change);
          applyPending();
        },
        resync: () => void connect(),
        // The session was revoked or expired while the stream was open.
        logout: () => {
          close?.();
          loggedOut.value = true;
        },
      },
      () => {
        liveStatus.value = "reconnecting";
        setTimeout(() => void connect(), RETRY_MS);
      },
    );
  };
  void connect();
}
