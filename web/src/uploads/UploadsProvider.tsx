import { createContext, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from "react";
import { session } from "../api/client";
import { useUploadImage } from "../hooks/images";
import { UploadQueue, type UploadItem } from "./queue";

const UploadsContext = createContext<UploadQueue | null>(null);

/** Keeps one upload queue for the whole app, so uploads go on while the user browses. */
export function UploadsProvider({ children }: { children: ReactNode }) {
  const { mutateAsync } = useUploadImage();
  const [queue] = useState(() => new UploadQueue());
  useEffect(() => {
    queue.setUploader((file, onProgress, signal) => mutateAsync({ file, onProgress, signal }));
    return () => queue.setUploader(null);
  }, [queue, mutateAsync]);
  // Uploads belong to the user who started them.
  useEffect(
    () =>
      session.subscribe(() => {
        if (session.getSnapshot().status === "signed-out") queue.reset();
      }),
    [queue],
  );
  useEffect(() => () => queue.reset(), [queue]);
  return <UploadsContext value={queue}>{children}</UploadsContext>;
}

export function useUploadQueue(): { queue: UploadQueue; items: readonly UploadItem[] } {
  const queue = useContext(UploadsContext);
  if (!queue) throw new Error("useUploadQueue needs an UploadsProvider");
  const items = useSyncExternalStore(queue.subscribe, queue.getSnapshot);
  return { queue, items };
}
