import { useSyncExternalStore } from "react";
import { session } from "../api/client";
import type { SessionSnapshot } from "../api/session";

/** The session's status and email; re-renders when either changes. */
export function useSession(): SessionSnapshot {
  return useSyncExternalStore(session.subscribe, session.getSnapshot);
}
