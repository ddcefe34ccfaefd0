import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors";
import type { ImageMetadata } from "@imgedge/api-client";
import { UploadQueue, type UploadFn } from "./queue";

interface Pending {
  file: File;
  progress: (fraction: number) => void;
  signal: AbortSignal;
  resolve: (image: ImageMetadata) => void;
  reject: (error: unknown) => void;
}

function controlledUpload() {
  const pending: Pending[] = [];
  const upload: UploadFn = (file, progress, signal) =>
    new Promise((resolve, reject) => {
      pending.push({ file, progress, signal, resolve, reject });
      signal.addEventListener("abort", () => reject(new DOMException("cancelled", "AbortError")));
    });
  return { upload, pending };
}

const file = (name: string) => new File(["x"], name, { type: "image/jpeg" });
const image = (id: string) => ({ id }) as ImageMetadata;
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("UploadQueue", () => {
  it("uploads a few at a time, in order, each with its own progress", async () => {
    const { upload, pending } = controlledUpload();
    const queue = new UploadQueue(upload, 2);
    queue.add([file("a.jpg"), file("b.jpg"), file("c.jpg")]);
    expect(queue.getSnapshot().map((i) => i.status)).toEqual(["uploading", "uploading", "queued"]);
    expect(pending.map((p) => p.file.name)).toEqual(["a.jpg", "b.jpg"]);

    pending[0].progress(0.5);
    expect(queue.getSnapshot()[0].progress).toBe(0.5);
    expect(queue.getSnapshot()[1].progress).toBe(0);

    pending[0].resolve(image("a"));
    await tick();
    expect(queue.getSnapshot().map((i) => i.status)).toEqual(["done", "uploading", "uploading"]);
    expect(queue.getSnapshot()[0]).toMatchObject({ progress: 1, image: { id: "a" } });
    expect(pending.map((p) => p.file.name)).toEqual(["a.jpg", "b.jpg", "c.jpg"]);
  });

  it("keeps the server's message next to the file it refused, and retries on request", async () => {
    const { upload, pending } = controlledUpload();
    const queue = new UploadQueue(upload);
    queue.add([file("notes.jpg")]);
    pending[0].reject(new ApiError(415, "unsupported_format", "not a JPEG, PNG, GIF, WebP or HEIF/AVIF image"));
    await tick();
    expect(queue.getSnapshot()[0]).toMatchObject({
      status: "failed",
      error: "not a JPEG, PNG, GIF, WebP or HEIF/AVIF image",
      retryable: false,
    });
    queue.retry(queue.getSnapshot()[0].id);
    expect(queue.getSnapshot()[0]).toMatchObject({ status: "uploading", error: undefined });
    expect(pending).toHaveLength(2);
  });

  it("marks failures that may pass as retryable", async () => {
    const { upload, pending } = controlledUpload();
    const queue = new UploadQueue(upload);
    queue.add([file("a.jpg")]);
    pending[0].reject(ApiError.network());
    await tick();
    expect(queue.getSnapshot()[0]).toMatchObject({ status: "failed", retryable: true });
  });

  it("cancels queued and running uploads", async () => {
    const { upload, pending } = controlledUpload();
    const queue = new UploadQueue(upload, 1);
    queue.add([file("a.jpg"), file("b.jpg")]);
    const [a, b] = queue.getSnapshot();
    queue.cancel(b.id);
    queue.cancel(a.id);
    await tick();
    expect(pending[0].signal.aborted).toBe(true);
    expect(queue.getSnapshot().map((i) => i.status)).toEqual(["cancelled", "cancelled"]);
    expect(pending).toHaveLength(1);
    queue.clearFinished();
    expect(queue.getSnapshot()).toEqual([]);
  });

  it("waits for an uploader, and notifies subscribers of every change", () => {
    const { upload, pending } = controlledUpload();
    const queue = new UploadQueue();
    let changes = 0;
    queue.subscribe(() => (changes += 1));
    queue.add([file("a.jpg")]);
    expect(queue.getSnapshot()[0].status).toBe("queued");
    queue.setUploader(upload);
    expect(pending).toHaveLength(1);
    expect(changes).toBe(2);
  });
});
