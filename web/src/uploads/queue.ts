/**
 * The upload queue: files waiting, uploading (a few at a time) and finished, each with its
 * own progress and, when the server refused it, the server's message. Framework-free; React
 * reads it through subscribe/getSnapshot.
 */
import { ApiError, errorMessage } from "../api/errors";
import type { ImageMetadata } from "@imgedge/api-client";

export type UploadStatus = "queued" | "uploading" | "done" | "failed" | "cancelled";

export interface UploadItem {
  readonly id: number;
  readonly file: File;
  readonly status: UploadStatus;
  /** Fraction of the file sent, 0 to 1. */
  readonly progress: number;
  /** Why it failed: the server's message when it answered. */
  readonly error?: string;
  /** Whether trying again may help (not for a file the server refused as it is). */
  readonly retryable?: boolean;
  readonly image?: ImageMetadata;
}

export type UploadFn = (
  file: File,
  onProgress: (fraction: number) => void,
  signal: AbortSignal,
) => Promise<ImageMetadata>;

const FINISHED: ReadonlySet<UploadStatus> = new Set(["done", "failed", "cancelled"]);

export class UploadQueue {
  private items: readonly UploadItem[] = [];
  private readonly controllers = new Map<number, AbortController>();
  private readonly listeners = new Set<() => void>();
  private nextId = 1;
  private upload: UploadFn | null;

  constructor(upload: UploadFn | null = null, private readonly concurrency = 2) {
    this.upload = upload;
  }

  /** Sets how files are sent (null: queued files wait). */
  setUploader(upload: UploadFn | null): void {
    this.upload = upload;
    this.pump();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): readonly UploadItem[] => this.items;

  /** Queues files; they start as soon as a slot is free. */
  add(files: Iterable<File>): void {
    const added = Array.from(files, (file): UploadItem => ({
      id: this.nextId++,
      file,
      status: "queued",
      progress: 0,
    }));
    if (added.length === 0) return;
    this.set([...this.items, ...added]);
    this.pump();
  }

  cancel(id: number): void {
    const item = this.find(id);
    if (item?.status === "queued") this.update(id, { status: "cancelled" });
    this.controllers.get(id)?.abort();
  }

  retry(id: number): void {
    const item = this.find(id);
    if (item && (item.status === "failed" || item.status === "cancelled")) {
      this.update(id, { status: "queued", progress: 0, error: undefined });
      this.pump();
    }
  }

  /** Removes finished items from the list. */
  clearFinished(): void {
    this.set(this.items.filter((item) => !FINISHED.has(item.status)));
  }

  /** Stops everything in progress (when the user signs out). */
  reset(): void {
    for (const controller of this.controllers.values()) controller.abort();
    this.controllers.clear();
    this.set([]);
  }

  private pump(): void {
    if (!this.upload) return;
    let running = this.items.filter((item) => item.status === "uploading").length;
    for (const item of this.items) {
      if (running >= this.concurrency) break;
      if (item.status !== "queued") continue;
      running += 1;
      void this.start(item);
    }
  }

  private async start(item: UploadItem): Promise<void> {
    const upload = this.upload;
    if (!upload) return;
    const controller = new AbortController();
    this.controllers.set(item.id, controller);
    this.update(item.id, { status: "uploading", progress: 0 });
    try {
      const image = await upload(
        item.file,
        (progress) => {
          if (this.find(item.id)?.status === "uploading") this.update(item.id, { progress });
        },
        controller.signal,
      );
      this.update(item.id, { status: "done", progress: 1, image });
    } catch (error) {
      if (controller.signal.aborted) this.update(item.id, { status: "cancelled" });
      else {
        const retryable = !(error instanceof ApiError) || error.isTransient;
        this.update(item.id, { status: "failed", error: errorMessage(error), retryable });
      }
    } finally {
      this.controllers.delete(item.id);
      this.pump();
    }
  }

  private find(id: number): UploadItem | undefined {
    return this.items.find((item) => item.id === id);
  }

  private update(id: number, patch: Partial<UploadItem>): void {
    if (!this.find(id)) return;
    this.set(this.items.map((item) => (item.id === id ? { ...item, ...patch } : item)));
  }

  private set(items: readonly UploadItem[]): void {
    this.items = items;
    for (const listener of this.listeners) listener();
  }
}
