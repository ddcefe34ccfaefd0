/**
 * End to end: Debian's Chromium (through playwright-core, no downloaded browser) drives the
 * built client against the real local stack (`imgedge dev`), as a person would: sign up,
 * upload, see the thumbnail (over its ThumbHash placeholder until it loads), build a variant
 * (format=auto, which Chromium gets as AVIF), copy its URL, set a focal point and draw a crop
 * region on the original, describe the image (alt text, tags; a stale edit is refused),
 * list and delete its stored variants, save its focus and a preset, filter the gallery by
 * tag and words, delete.
 *
 * Screenshots go to web/test-results/. CHROMIUM_PATH overrides /usr/bin/chromium.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageMetadata, Session } from "@imgedge/api-client";
import { imageAcceptHeader } from "../src/lib/accept";
import { acceptClass, transformPath, type TransformOptions } from "../src/transform";
import { jpegSize } from "./jpeg";
import { counter, startStack, webRoot, type Stack } from "./stack";

const RESULTS = join(webRoot, "test-results");
const PHOTO = join(webRoot, "..", "testdata", "photos", "detail.jpg");
const PHOTO_SIZE = { width: 1024, height: 682 };
const SECOND_PHOTO = join(webRoot, "..", "testdata", "photos", "light.jpg");
const ALT = "Fine detail of a living thing, close up";

/** Flags that keep Chromium from calling anywhere but the stack. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--component-updater=url-source=http://127.0.0.1:9/",
];

interface Exchange {
  method: string;
  url: URL;
  resourceType: string;
  requestHeaders: Record<string, string>;
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const network: Exchange[] = [];
const consoleErrors: string[] = [];

// Shared between the steps, in order.
let image: ImageMetadata;
let variantPath: string;
let copiedUrl: string;
let shownBytes: number;
let focal: { x: number; y: number };
let thumbnailPath: string;

/** The accept header Chromium's image requests send; the preview sends its equivalent. */
const BROWSER_ACCEPT = imageAcceptHeader({ avif: true, webp: true });

/** The preview once it shows `path`, loaded. */
async function previewOf(path: string) {
  await page
    .locator("figure.preview-frame")
    .and(page.locator(`[data-path="${path}"][aria-busy=false]`))
    .waitFor({ timeout: 30_000 });
}

function stat(name: string) {
  return page.locator(`[data-stat=${name}]`);
}

function onConsole(message: ConsoleMessage) {
  if (message.type() !== "error") return;
  const where = message.location().url;
  // The refused upload below is a 415 on purpose; Chromium reports every 4xx in the console.
  if (/status of 415/.test(message.text()) && where.endsWith("/v1/images")) return;
  // So is the edit sent with a stale If-Match (412), below.
  if (/status of 412/.test(message.text()) && image && where.endsWith(`/v1/images/${image.id}`)) return;
  consoleErrors.push(`${message.text()} (${where})`);
}

function exchangesTo(path: string) {
  return network.filter((e) => e.url.pathname + e.url.search === path);
}

async function waitForNetworkBody(predicate: (e: Exchange) => boolean): Promise<Exchange> {
  await expect.poll(() => network.find((e) => predicate(e) && e.body !== undefined), { timeout: 20_000 }).toBeDefined();
  return network.find((e) => predicate(e) && e.body !== undefined)!;
}

beforeAll(async () => {
  // The photo must be the one the sizes below describe.
  expect(jpegSize(new Uint8Array(readFileSync(PHOTO)))).toEqual(PHOTO_SIZE);
  mkdirSync(RESULTS, { recursive: true });
  stack = await startStack({ webDir: join(webRoot, "dist"), logFile: join(RESULTS, "imgedge-dev.log") });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
  context = await browser.newContext({ baseURL: stack.url, viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.url });
  page = await context.newPage();
  page.on("console", onConsole);
  page.on("pageerror", (error) => consoleErrors.push(`uncaught: ${error.message}`));
  page.on("request", (request) => {
    network.push({
      method: request.method(),
      url: new URL(request.url()),
      resourceType: request.resourceType(),
      requestHeaders: request.headers(),
    });
  });
  page.on("response", async (response) => {
    const request = response.request();
    const entry = network.findLast((e) => e.url.href === request.url() && e.method === request.method() && e.status === undefined);
    if (!entry) return;
    entry.status = response.status();
    // A response still arriving when the browser closes at the end has no headers to read:
    // that is the teardown, not the app (the checks read entries of finished requests only).
    const headers = await response.allHeaders().catch(() => null);
    if (headers === null) return;
    entry.headers = headers;
    if (entry.url.pathname.startsWith("/v1/") && response.status() !== 204) {
      entry.body = await response.text().catch(() => "");
    }
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("imgedge web client against the local stack", () => {
  it("signs up and lands on an empty gallery", async () => {
    await page.goto("/");
    await expect.poll(() => new URL(page.url()).pathname).toBe("/sign-in");
    await page.getByRole("link", { name: "Create an account" }).click();
    const email = `e2e-${Date.now()}@example.com`;
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByRole("heading", { name: "Your images" }).waitFor();
    await page.getByRole("heading", { name: "No images yet" }).waitFor();
    await expect.poll(() => page.getByText(email).isVisible()).toBe(true);

    // The refresh token is in an HttpOnly cookie, for reloads, where no script reads it; the
    // access token lives in memory only.
    const login = await waitForNetworkBody((e) => e.url.pathname === "/v1/auth/login" && e.status === 200);
    const session = JSON.parse(login.body!) as Session;
    expect(session.refresh_token).toBeUndefined();
    const cookies = await context.cookies();
    const refresh = cookies.find((c) => c.name === "imgedge_refresh");
    expect(refresh).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/v1/auth" });
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + document.cookie);
    expect(stored).not.toContain(refresh!.value);
    expect(stored).not.toContain(session.access_token);
  });

  it("uploads a photo with progress, and shows the server's message for a file it refuses", async () => {
    await page.getByLabel("Choose images to upload").setInputFiles([
      { name: "detail.jpg", mimeType: "image/jpeg", buffer: readFileSync(PHOTO) },
      { name: "notes.jpg", mimeType: "image/jpeg", buffer: Buffer.from("these are notes, not a photo\n") },
    ]);
    const photoRow = page.locator(".upload", { hasText: "detail.jpg" });
    const refusedRow = page.locator(".upload", { hasText: "notes.jpg" });
    await photoRow.and(page.locator("[data-upload-status=done]")).waitFor();
    await refusedRow.and(page.locator("[data-upload-status=failed]")).waitFor();
    expect(await photoRow.locator("progress").getAttribute("value")).toBe("100");

    const refused = await waitForNetworkBody((e) => e.url.pathname === "/v1/images" && e.method === "POST" && e.status === 415);
    const { error, message } = JSON.parse(refused.body!) as { error: string; message: string };
    expect(error).toBe("unsupported_format");
    expect((await refusedRow.getByRole("alert").textContent())?.trim()).toBe(message);

    const created = await waitForNetworkBody((e) => e.url.pathname === "/v1/images" && e.method === "POST" && e.status === 201);
    image = JSON.parse(created.body!) as ImageMetadata;
    expect(image).toMatchObject({ filename: "detail.jpg", format: "jpeg", ...PHOTO_SIZE });
  });

  it("shows the thumbnail, delivered by the edge", async () => {
    const thumb = page.getByRole("list", { name: "Images" }).getByRole("img", { name: "detail.jpg" });
    await thumb.waitFor();
    await expect
      .poll(() => thumb.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0)), { timeout: 30_000 })
      .toBe(320);
    const src = new URL((await thumb.getAttribute("src"))!, stack.url);
    expect(src.pathname + src.search).toBe(transformPath(image, { width: 320, format: "webp" }));
    const [fetched] = exchangesTo(src.pathname + src.search);
    expect(fetched.status).toBe(200);
    expect(fetched.headers?.["content-type"]).toBe("image/webp");
    await page.screenshot({ path: join(RESULTS, "gallery.png"), fullPage: true });
  });

  it("keeps the session across a reload, with one refresh", async () => {
    const refreshesBefore = network.filter((e) => e.url.pathname === "/v1/auth/refresh").length;
    await page.reload();
    await page.getByRole("heading", { name: "Your images" }).waitFor();
    await page.getByRole("img", { name: "detail.jpg" }).waitFor();
    expect(network.filter((e) => e.url.pathname === "/v1/auth/refresh").length - refreshesBefore).toBe(1);
  });

  it("shows a thumbnail's placeholder until it loads: its ThumbHash, on its dominant colour, in its box", async () => {
    expect(image.thumbhash).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(image.dominant_color).toMatch(/^#[0-9a-f]{6}$/);
    thumbnailPath = transformPath(image, { width: 320, format: "webp" });
    // The thumbnail's request is held until the placeholder has been seen (routing also
    // turns the browser's cache off, so the request is made again).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const isThumbnail = (url: URL) => url.pathname + url.search === thumbnailPath;
    await page.route(isThumbnail, async (route) => {
      await held;
      await route.continue();
    });
    try {
      await page.reload();
      const frame = page.getByRole("list", { name: "Images" }).locator(".thumb-frame").first();
      await frame.waitFor();
      expect(await frame.getAttribute("data-state")).toBe("loading");
      const placeholder = frame.locator("svg.thumb-placeholder");
      expect(await placeholder.getAttribute("viewBox")).toBe(`0 0 320 ${Math.round(320 / image.aspect_ratio)}`);
      expect(await placeholder.locator("rect").getAttribute("fill")).toBe(image.dominant_color);
      expect(await placeholder.locator("image").getAttribute("href")).toMatch(/^data:image\/png;base64,/);
      expect(await placeholder.isVisible()).toBe(true);
      expect(await frame.locator("img.thumb").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(0);
      await page.screenshot({ path: join(RESULTS, "placeholder.png"), fullPage: true });
      release();
      await frame.and(page.locator("[data-state=loaded]")).waitFor({ timeout: 30_000 });
      expect(await frame.locator("img.thumb").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(320);
    } finally {
      release();
      await page.unroute(isThumbnail);
    }
  });

  it("builds width 400 + grayscale in format auto (the default): the preview is a miss, rendered once, comes back as AVIF, and reports its size", async () => {
    await page.getByRole("link", { name: /detail\.jpg/ }).click();
    await page.getByRole("heading", { name: "detail.jpg" }).waitFor();
    // A new URL is format=auto.
    await previewOf(transformPath(image, { format: "auto" }));

    const rendersBefore = counter(await stack.metrics(), "imgedge_transformer_renders_total");
    const seenBefore = network.length;
    await page.getByLabel("Width", { exact: true }).fill("400");
    await page.getByLabel("Grayscale").check();

    variantPath = transformPath(image, { width: 400, grayscale: true, format: "auto" });
    expect(variantPath).toMatch(/^\/i\/[0-9a-f-]{36}\/[A-Za-z0-9_-]{22}\?width=400&grayscale=1&format=auto$/);
    await previewOf(variantPath);

    // The page asked the edge once for this variant: a miss, answered by the transformer.
    const requests = exchangesTo(variantPath);
    expect(requests).toHaveLength(1);
    expect(requests[0].headers?.["x-cache"]).toBe("Miss from edge");
    expect(requests[0].headers?.["x-edge-origin"]).toBe("transformer");
    // Asked as Chromium's <img> asks (AVIF listed), it came back as AVIF, varying by Accept.
    expect(acceptClass(requests[0].requestHeaders.accept)).toBe("avif");
    expect(requests[0].headers?.["content-type"]).toBe("image/avif");
    expect(requests[0].headers?.vary?.toLowerCase()).toContain("accept");
    expect(await stat("cache").textContent()).toBe("Miss from edge");
    expect(await stat("origin").textContent()).toBe("transformer");

    // Rendered once: one render per distinct variant the page asked for while typing.
    const variantsAsked = new Set(
      network.slice(seenBefore).filter((e) => e.url.pathname.startsWith(`/i/${image.id}/`)).map((e) => e.url.href),
    );
    expect(counter(await stack.metrics(), "imgedge_transformer_renders_total") - rendersBefore).toBe(variantsAsked.size);

    // The reported format and size are the response's.
    const height = Math.round((400 * PHOTO_SIZE.height) / PHOTO_SIZE.width);
    expect(await stat("format").textContent()).toBe("avif");
    const [shownWidth, shownHeight] = (await stat("dimensions").textContent())!.split(" × ").map(Number);
    expect(shownWidth).toBe(400);
    expect(Math.abs(shownHeight - height)).toBeLessThanOrEqual(1);
    shownBytes = Number(await stat("bytes").getAttribute("data-bytes"));
    expect(shownBytes).toBeGreaterThan(1000);
    const preview = page.getByRole("img", { name: /^Preview of/ });
    expect(await preview.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([
      shownWidth,
      shownHeight,
    ]);
    // And it is gray: every sampled pixel has R = G = B.
    const maxChannelSpread = await preview.evaluate((img: HTMLImageElement) => {
      const canvas = document.createElement("canvas");
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext("2d")!;
      ctx.drawImage(img, 0, 0);
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      let spread = 0;
      for (let i = 0; i < data.length; i += 4 * 97) {
        spread = Math.max(spread, Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]));
      }
      return spread;
    });
    expect(maxChannelSpread).toBeLessThanOrEqual(2);

    expect(await page.getByLabel("Canonical URL of this variant").inputValue()).toBe(stack.url + variantPath);
    await page.screenshot({ path: join(RESULTS, "builder.png"), fullPage: true });
  });

  it("copies the URL, which the edge then answers from its cache for the same accept class", async () => {
    const rendersBefore = counter(await stack.metrics(), "imgedge_transformer_renders_total");
    await page.getByRole("button", { name: "Copy URL" }).click();
    await page.getByRole("button", { name: "Copied" }).waitFor();
    copiedUrl = await page.evaluate(() => navigator.clipboard.readText());
    expect(copiedUrl).toBe(stack.url + variantPath);

    const response = await fetch(copiedUrl, { headers: { Accept: BROWSER_ACCEPT } });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-cache")).toBe("Hit from edge");
    expect(response.headers.get("content-type")).toBe("image/avif");
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(bytes.length).toBe(shownBytes);
    expect(counter(await stack.metrics(), "imgedge_transformer_renders_total")).toBe(rendersBefore);

    // The same URL for a client that takes neither AVIF nor WebP: a JPEG of the same size.
    const basic = await fetch(copiedUrl, { headers: { Accept: "*/*" } });
    expect(basic.status).toBe(200);
    expect(basic.headers.get("content-type")).toBe("image/jpeg");
    const size = jpegSize(new Uint8Array(await basic.arrayBuffer()));
    expect(await stat("dimensions").textContent()).toBe(`${size.width} × ${size.height}`);

    const snippet = await page.getByLabel("HTML snippet").textContent();
    expect(snippet).toContain('srcset="');
    // Written as HTML: `&` in attribute values is `&amp;`.
    const at320 = `${stack.url}${transformPath(image, { width: 320, grayscale: true, format: "auto" })}`;
    expect(snippet).toContain(`${at320.replaceAll("&", "&amp;")} 320w`);
  });

  it("sets a focal point by clicking the original: cover 300 × 300 keeps the window around it", async () => {
    await page.getByRole("button", { name: "Reset all" }).click();
    await page.getByLabel("Width", { exact: true }).fill("300");
    await page.getByLabel("Height", { exact: true }).fill("300");
    // Choosing the focal point opens the picker on the original.
    await page.getByRole("radio", { name: /^Focal point/ }).check();
    const picker = page.getByRole("application", { name: "Focal point picker" });
    const shown = picker.locator("img");
    await expect
      .poll(() => shown.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0)), { timeout: 30_000 })
      .toBe(800);
    const shownSrc = new URL((await shown.getAttribute("src"))!, stack.url);
    expect(shownSrc.pathname + shownSrc.search).toBe(transformPath(image, { width: 800, format: "auto" }));
    expect(exchangesTo(shownSrc.pathname + shownSrc.search)[0].headers?.["content-type"]).toBe("image/avif");

    const box = (await picker.boundingBox())!;
    await picker.click({ position: { x: box.width * 0.2, y: box.height * 0.35 } });
    focal = {
      x: Number(await page.getByLabel("Focal point X").inputValue()),
      y: Number(await page.getByLabel("Focal point Y").inputValue()),
    };
    expect(Math.abs(focal.x - 0.2)).toBeLessThan(0.01);
    expect(Math.abs(focal.y - 0.35)).toBeLessThan(0.01);
    expect(await picker.locator("[data-focus]").getAttribute("data-focus")).toBe(`${focal.x},${focal.y}`);

    const options: TransformOptions = { width: 300, height: 300, gravity: focal, format: "auto" };
    const focused = transformPath(image, options);
    expect(focused).toContain(`?width=300&height=300&gravity=${focal.x},${focal.y}&format=auto`);
    await previewOf(focused);
    expect(exchangesTo(focused).map((e) => [e.status, e.headers?.["content-type"]])).toEqual([[200, "image/avif"]]);
    expect(await stat("dimensions").textContent()).toBe("300 × 300");
    expect(await page.getByLabel("Canonical URL of this variant").inputValue()).toBe(stack.url + focused);

    // The same settings by pixel density: dpr 2 and 3 beside them.
    const density = await page.getByLabel("Density srcset HTML").textContent();
    for (const dpr of [2, 3]) {
      const url = `${stack.url}${transformPath(image, { ...options, dpr })}`;
      expect(url).toContain(`&dpr=${dpr}&`);
      expect(density).toContain(`${url.replaceAll("&", "&amp;")} ${dpr}x`);
    }
    await page.screenshot({ path: join(RESULTS, "focal-point.png"), fullPage: true });
  });

  it("draws a crop region by dragging on the original; the focal point stays where it was on it", async () => {
    await page.getByText("Drag: crop region").click();
    const picker = page.getByRole("application", { name: "Crop region picker" });
    await picker.scrollIntoViewIfNeeded();
    const box = (await picker.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.7, { steps: 8 });
    await page.mouse.up();

    const field = async (label: string) => Number(await page.getByLabel(label, { exact: true }).inputValue());
    const crop = {
      x: await field("Crop x"),
      y: await field("Crop y"),
      width: await field("Crop width"),
      height: await field("Crop height"),
    };
    // Pixels of the original (1024 × 682), to within a few (the picker shows it smaller).
    const near = (value: number, expected: number) => expect(Math.abs(value - expected)).toBeLessThanOrEqual(6);
    near(crop.x, 0.1 * PHOTO_SIZE.width);
    near(crop.y, 0.2 * PHOTO_SIZE.height);
    near(crop.width, 0.5 * PHOTO_SIZE.width);
    near(crop.height, 0.5 * PHOTO_SIZE.height);

    // The focal point is measured within the crop now, at the same place on the original.
    const within = {
      x: Number(await page.getByLabel("Focal point X").inputValue()),
      y: Number(await page.getByLabel("Focal point Y").inputValue()),
    };
    expect(Math.abs(within.x - (focal.x * PHOTO_SIZE.width - crop.x) / crop.width)).toBeLessThanOrEqual(0.002);
    expect(Math.abs(within.y - (focal.y * PHOTO_SIZE.height - crop.y) / crop.height)).toBeLessThanOrEqual(0.002);

    const cropped = transformPath(image, { crop, width: 300, height: 300, gravity: within, format: "auto" });
    expect(cropped).toContain(`?crop=${crop.x},${crop.y},${crop.width},${crop.height}&width=300&height=300&gravity=`);
    await previewOf(cropped);
    expect(exchangesTo(cropped).map((e) => [e.status, e.headers?.["content-type"]])).toEqual([[200, "image/avif"]]);
    expect(await stat("dimensions").textContent()).toBe("300 × 300");
    expect(await page.getByLabel("Canonical URL of this variant").inputValue()).toBe(stack.url + cropped);
    await page.screenshot({ path: join(RESULTS, "crop.png"), fullPage: true });
  });

  it("edits the alt text and tags with If-Match; a stale version is refused with a message; both survive a reload", async () => {
    const description = page.getByRole("form", { name: "Description" });
    await description.scrollIntoViewIfNeeded();
    await description.getByLabel("Alt text", { exact: true }).fill(ALT);
    await description.getByLabel("Tags", { exact: true }).fill("E2E-Green, macro e2e-green");
    const save = description.getByRole("button", { name: "Save description" });

    // First as if another tab had edited the image meanwhile: the edit names a version that
    // is no longer the image's, and the API refuses it.
    let stale = true;
    const imageUrl = (url: URL) => url.pathname === `/v1/images/${image.id}`;
    await page.route(imageUrl, async (route) => {
      if (route.request().method() !== "PATCH" || !stale) return route.fallback();
      stale = false;
      await route.continue({ headers: { ...route.request().headers(), "if-match": '"stale"' } });
    });
    try {
      await save.click();
      await page.getByRole("alert").filter({ hasText: /changed elsewhere/ }).waitFor();
      expect(network.filter((e) => e.method === "PATCH").map((e) => e.status)).toEqual([412]);
    } finally {
      await page.unroute(imageUrl);
    }

    // Then for real: with the ETag of the image as the page read it.
    await save.click();
    const patched = await waitForNetworkBody((e) => e.method === "PATCH" && e.status === 200);
    const read = network.findLast((e) => e.method === "GET" && imageUrl(e.url) && e.status === 200);
    expect(read?.headers?.etag).toBeTruthy();
    expect(patched.requestHeaders["if-match"]).toBe(read?.headers?.etag);
    expect(patched.requestHeaders["content-type"]).toBe("application/merge-patch+json");
    expect(JSON.parse(patched.body!)).toMatchObject({ alt: ALT, tags: ["e2e-green", "macro"] });
    await description.getByText("Saved.").waitFor();

    await page.reload();
    const reloaded = page.getByRole("form", { name: "Description" });
    await reloaded.waitFor();
    expect(await reloaded.getByLabel("Alt text", { exact: true }).inputValue()).toBe(ALT);
    expect(await reloaded.getByLabel("Tags", { exact: true }).inputValue()).toBe("e2e-green, macro");
    const tags = page.getByRole("list", { name: "Tags", exact: true }).getByRole("link");
    expect(await tags.allTextContents()).toEqual(["e2e-green", "macro"]);
    await page.screenshot({ path: join(RESULTS, "description.png"), fullPage: true });
  });

  it("lists the image's stored variants and deletes one: its URL then renders afresh", async () => {
    await page.getByText("Stored variants").click();
    const query = "width=400&grayscale=1&format=auto";
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: query, exact: true }) });
    await row.waitFor();
    // Rendered for two accept classes so far (the preview's AVIF, Node's JPEG).
    expect(await row.getByRole("cell").nth(1).textContent()).toContain("avif");
    await row.getByRole("button", { name: `Delete variant ${query}` }).click();
    await row.waitFor({ state: "detached" });
    const deleted = network.find((e) => e.method === "DELETE" && e.url.pathname.startsWith(`/v1/images/${image.id}/variants/`));
    expect(deleted?.status).toBe(204);

    const again = await fetch(copiedUrl, { headers: { Accept: BROWSER_ACCEPT } });
    expect(again.status).toBe(200);
    expect(again.headers.get("x-cache")).toBe("Miss from edge");
  });

  it("saves the focal point as the image's focus: a cover with no gravity then gets it, as the API's preset URL does", async () => {
    // The reload above reset the builder: the focal point chosen earlier, typed this time.
    await page.getByRole("radio", { name: /^Focal point/ }).check();
    await page.getByLabel("Focal point X").fill(String(focal.x));
    await page.getByLabel("Focal point Y").fill(String(focal.y));
    await page.getByRole("button", { name: "Save the focal point as the image's focus" }).click();
    const focused = await waitForNetworkBody((e) => e.method === "PATCH" && e.status === 200 && e.body!.includes('"focus":{'));
    const focus = (JSON.parse(focused.body!) as ImageMetadata).focus!;
    expect(focus).toEqual(focal);
    await page.locator(`[data-saved-focus="${focus.x},${focus.y}"]`).waitFor();

    // Centre (no gravity) and a cover box: the image's focus is the gravity.
    await page.getByRole("button", { name: "Reset all" }).click();
    await page.getByLabel("Width", { exact: true }).fill("300");
    await page.getByLabel("Height", { exact: true }).fill("300");
    const withFocus = transformPath(image, { width: 300, height: 300, gravity: focus, format: "auto" });
    await expect.poll(() => page.getByLabel("Canonical URL of this variant").inputValue()).toBe(stack.url + withFocus);

    // The same intent saved as a preset: the API's URL for this image is the builder's.
    const form = page.getByRole("form", { name: "Save a preset" });
    await form.getByLabel("Preset name").fill("e2e-square");
    await form.getByRole("button", { name: "Save preset" }).click();
    await form.getByText("Saved “e2e-square”.").waitFor();
    const presetUrl = page.getByLabel("URL of preset e2e-square");
    await presetUrl.waitFor();
    expect(await presetUrl.inputValue()).toBe(stack.url + withFocus);
  });

  it("filters the gallery by tag (kept in the page's URL) and by words", async () => {
    await page.getByRole("link", { name: "← All images" }).click();
    await page.getByRole("heading", { name: "Your images" }).waitFor();
    await page.getByLabel("Choose images to upload").setInputFiles([
      { name: "light.jpg", mimeType: "image/jpeg", buffer: readFileSync(SECOND_PHOTO) },
    ]);
    await page.locator(".upload", { hasText: "light.jpg" }).and(page.locator("[data-upload-status=done]")).waitFor();
    const grid = page.getByRole("list", { name: "Images" });
    const shown = () => grid.getByRole("listitem").count();
    await expect.poll(shown).toBe(2);

    await page.getByLabel("Tag", { exact: true }).fill("e2e-green");
    await page.getByRole("button", { name: "Filter", exact: true }).click();
    await expect.poll(() => new URL(page.url()).searchParams.getAll("tag")).toEqual(["e2e-green"]);
    await expect.poll(shown).toBe(1);
    await grid.getByRole("img", { name: ALT }).waitFor();
    const asked = network.filter((e) => e.url.pathname === "/v1/images" && e.method === "GET" && e.status === 200);
    expect(asked.some((e) => e.url.searchParams.getAll("tag").join() === "e2e-green")).toBe(true);

    // Kept across a reload: the filter is the page's URL.
    await page.reload();
    await grid.getByRole("img", { name: ALT }).waitFor();
    await expect.poll(shown).toBe(1);
    await page.getByRole("list", { name: "Filtered by tags" }).waitFor();

    await page.getByRole("button", { name: "Remove tag filter e2e-green" }).click();
    await expect.poll(shown).toBe(2);
    await page.getByLabel("Search", { exact: true }).fill("living");
    await expect.poll(() => new URL(page.url()).searchParams.get("q")).toBe("living");
    await expect.poll(shown).toBe(1);
    await grid.getByRole("img", { name: ALT }).waitFor();
    await page.screenshot({ path: join(RESULTS, "filtered.png"), fullPage: true });
    await page.getByLabel("Search", { exact: true }).fill("");
    await expect.poll(shown).toBe(2);

    // The second photo goes again (once its page's preview has loaded: a request still in
    // flight at the delete would get a 404); back to the first one's page for the steps below.
    const uploaded = await waitForNetworkBody(
      (e) => e.url.pathname === "/v1/images" && e.method === "POST" && e.status === 201 && e.body!.includes('"light.jpg"'),
    );
    await grid.getByRole("link", { name: /light\.jpg/ }).click();
    await previewOf(transformPath(JSON.parse(uploaded.body!) as ImageMetadata, { format: "auto" }));
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByRole("dialog", { name: "Delete this image?" }).getByRole("button", { name: "Delete image" }).click();
    await expect.poll(shown).toBe(1);
    await grid.getByRole("link", { name: /detail\.jpg/ }).click();
    await page.getByRole("heading", { name: "detail.jpg" }).waitFor();
  });

  it("deletes the image after confirmation; its URLs then answer 404", async () => {
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Delete this image?" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Delete image" }).click();
    await page.getByRole("heading", { name: "No images yet" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/");

    expect((await fetch(copiedUrl)).status).toBe(404);
    expect((await fetch(stack.url + transformPath(image, { width: 320, format: "webp" }))).status).toBe(404);
  });

  it("signs out, and stays signed out after a reload", async () => {
    // The page shows "Sign in" before the server has answered the sign-out: its answer is
    // awaited here, or the reload below could overtake it and the check lose its subject.
    const loggedOut = page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/auth/logout");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect((await loggedOut).status()).toBe(204);
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    // Signed out on the server: one sign-out was sent, and the session's cookie is gone.
    expect(exchangesTo("/v1/auth/logout").map((e) => e.status)).toEqual([204]);
    expect((await context.cookies()).some((c) => c.name === "imgedge_refresh")).toBe(false);
  });

  it("serves the page with a strict Content-Security-Policy, which the client runs under", async () => {
    const response = await page.goto("/images/anything");
    const csp = response?.headers()["content-security-policy"] ?? "";
    for (const directive of ["default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain("unsafe");
    // A violation would be a console error, which the last step refuses.
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
  });

  it("never fetched image bytes from /v1/*, and logged no console errors", () => {
    const api = network.filter((e) => e.url.pathname.startsWith("/v1/"));
    expect(api.length).toBeGreaterThan(0);
    for (const e of api) {
      expect(e.resourceType, `${e.method} ${e.url.pathname}`).not.toBe("image");
      expect(e.headers?.["content-type"] ?? "", `${e.method} ${e.url.pathname}`).not.toMatch(/^image\//);
    }
    const images = network.filter((e) => e.resourceType === "image" || e.headers?.["content-type"]?.startsWith("image/"));
    expect(images.length).toBeGreaterThan(0);
    for (const e of images) {
      if (e.url.protocol === "blob:" || e.url.protocol === "data:" || e.url.pathname === "/favicon.svg") continue;
      expect(e.url.pathname, e.url.href).toMatch(/^\/i\//);
    }
    expect(consoleErrors).toEqual([]);
  });
});
