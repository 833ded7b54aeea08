import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { installFakeWorker } from "../testing/fake_worker.ts";
import { Transmuxer } from "./transmuxer.ts";

const WORKER_URL = "http://127.0.0.1:8080/player/hls-websocket-cdn.worker.js";
const bytes = (n: number) => new Uint8Array(n);

Deno.test("Transmuxer without a worker URL transmuxes on the page's thread", async () => {
  const transmuxer = new Transmuxer();
  assert(!transmuxer.inWorker);
  assertEquals(await transmuxer.transmux(bytes(0), false), {});
  transmuxer.destroy();
});

Deno.test("Transmuxer starts the worker through a blob that loads its script", async () => {
  using workers = installFakeWorker();
  const transmuxer = new Transmuxer({ workerUrl: WORKER_URL });
  assert(transmuxer.inWorker);
  const [worker] = workers.created;
  assert(worker.url.startsWith("blob:"), worker.url);
  assertEquals(
    await (await fetch(worker.url)).text(),
    `importScripts(${JSON.stringify(WORKER_URL)});`,
  );
  transmuxer.destroy();
  assert(worker.terminated);
});

Deno.test("Transmuxer gives each chunk its own answer, whatever order the worker answers in", async () => {
  using workers = installFakeWorker();
  const transmuxer = new Transmuxer({ workerUrl: WORKER_URL });
  const [worker] = workers.created;
  worker.holding = true;
  worker.answer = (request) => ({
    id: request.id,
    output: { video: { data: new Uint8Array([request.data.byteLength, request.reset ? 1 : 0]) } },
  });
  const first = transmuxer.transmux(bytes(1), true);
  const second = transmuxer.transmux(bytes(2), false);
  assertEquals(worker.requests.map(({ id, reset }) => [id, reset]), [[0, true], [1, false]]);
  worker.release([1, 0]);
  assertEquals((await first).video?.data, new Uint8Array([1, 1]));
  assertEquals((await second).video?.data, new Uint8Array([2, 0]));

  worker.answer = (request) => ({ id: request.id, error: "bad bytes" });
  const failed = await transmuxer.transmux(bytes(3), false).catch((error) => error.message);
  assertEquals(failed, "bad bytes");
  transmuxer.destroy();
});

Deno.test("Transmuxer falls back to the page's thread when the worker fails, and redoes what waited", async () => {
  using workers = installFakeWorker();
  const logs: string[] = [];
  const transmuxer = new Transmuxer({ workerUrl: WORKER_URL, log: (line) => logs.push(line) });
  const [worker] = workers.created;
  worker.holding = true;
  const waiting = transmuxer.transmux(bytes(0), false);
  worker.fail("cannot load the script");
  assert(worker.terminated && !transmuxer.inWorker);
  assertEquals(await waiting, {}, "answered on the page's thread");
  assertEquals(await transmuxer.transmux(bytes(0), false), {});
  assertEquals(worker.requests.length, 1, "nothing more went to the worker");
  assert(logs[0].startsWith("worker failed: cannot load the script"), logs[0]);
  worker.release();
  transmuxer.destroy();
});

Deno.test("Transmuxer.destroy rejects what waits and stops the worker", async () => {
  using workers = installFakeWorker();
  const transmuxer = new Transmuxer({ workerUrl: WORKER_URL });
  const [worker] = workers.created;
  worker.holding = true;
  const waiting = transmuxer.transmux(bytes(1), false).catch((error) => error.message);
  transmuxer.destroy();
  assertEquals(await waiting, "transmuxer destroyed");
  assert(worker.terminated);
  const after = await transmuxer.transmux(bytes(1), false).catch((error) => error.message);
  assertEquals(after, "transmuxer destroyed");
});
