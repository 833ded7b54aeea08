import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { crc32Mpeg2 } from "../../shared/mpegts/psi.ts";
import { packetPid, TS_PACKET_SIZE } from "../../shared/mpegts/packet.ts";
import { parseRenditionId } from "../../shared/rendition.ts";
import { BufferMemory } from "../buffer_memory.ts";
import { Logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { Stream } from "../stream.ts";
import { RecordingSocket } from "../testing/recording_socket.ts";
import { GroupSpectator } from "./group_spectator.ts";
import { videoPid, withoutPid } from "./video_shedding.ts";

const PMT_PID = 0x1000;
const VIDEO = 0x100;
const AUDIO = 0x101;

/** A 188-byte packet of `pid` carrying `payload` (a table gets its pointer field). */
function packet(pid: number, payload: number[] = [], table = false): Uint8Array {
  const bytes = new Uint8Array(TS_PACKET_SIZE).fill(0xff);
  bytes.set([0x47, (table ? 0x40 : 0) | (pid >> 8), pid & 0xff, 0x10]);
  bytes.set(table ? [0, ...payload] : payload, 4);
  return bytes;
}

/** A PSI section with its length and CRC. */
function section(tableId: number, body: number[]): number[] {
  const length = body.length + 4 + 5;
  const head = [tableId, 0xb0 | (length >> 8), length & 0xff, 0, 1, 0xc1, 0, 0];
  const crc = crc32Mpeg2(new Uint8Array([...head, ...body]));
  return [...head, ...body, crc >>> 24, (crc >> 16) & 0xff, (crc >> 8) & 0xff, crc & 0xff];
}

const PAT = packet(0, section(0x00, [0, 1, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff]), true);
const PMT = packet(
  PMT_PID,
  section(0x02, [
    0xe0 | (VIDEO >> 8),
    VIDEO & 0xff,
    0xf0,
    0, // PCR PID, no program info
    0x1b,
    0xe0 | (VIDEO >> 8),
    VIDEO & 0xff,
    0xf0,
    0, // H.264
    0x0f,
    0xe0 | (AUDIO >> 8),
    AUDIO & 0xff,
    0xf0,
    0, // AAC
  ]),
  true,
);

/** Packets joined; `mark` in the fourth payload byte says which rendition a packet came from. */
function ts(pids: number[], mark: number, tables = false): Uint8Array {
  const packets = [...(tables ? [PAT, PMT] : []), ...pids.map((pid) => packet(pid, [mark]))];
  const out = new Uint8Array(packets.length * TS_PACKET_SIZE);
  packets.forEach((bytes, index) => out.set(bytes, index * TS_PACKET_SIZE));
  return out;
}

const pidsOf = (data: Uint8Array) =>
  Array.from({ length: data.byteLength / TS_PACKET_SIZE }, (_, i) => packetPid(data, i * 188));

Deno.test("videoPid reads the PMT's first video stream; withoutPid keeps every other packet in order", () => {
  const start = ts([VIDEO, AUDIO, VIDEO], 1, true);
  assertEquals(videoPid(start), VIDEO);
  assertEquals(videoPid(ts([VIDEO, AUDIO], 1)), undefined, "no tables, no answer");
  const shed = withoutPid(start, VIDEO);
  assertEquals(pidsOf(shed), [0, PMT_PID, AUDIO]);
  assertEquals(shed.subarray(2 * 188), start.subarray(3 * 188, 4 * 188), "bytes unchanged");
  const audioOnly = ts([AUDIO], 1);
  assert(withoutPid(audioOnly, VIDEO) === audioOnly, "nothing to shed: the same bytes, no copy");
});

const TOP = "g/1280x720-30~2500";
const LOW = "g/640x360-30~800";

function setup(shedding?: boolean, ids = [TOP, LOW], downLagMs = -1) {
  const metrics = new Metrics();
  const memory = new BufferMemory();
  const log = Logger.silent();
  const streams = new Map(
    ids.map((id) => [id, new Stream({ id, maxFragments: 3, memory, metrics, log })]),
  );
  const socket = new RecordingSocket();
  const group = new GroupSpectator(socket, {
    renditions: ids.map((id) => parseRenditionId(id)!),
    open: (id) => Promise.resolve(streams.get(id)!),
    parts: true,
    policy: { maxQueueBytes: 1e9, maxLagMs: 60_000, stallTimeoutMs: 60_000 },
    metrics,
    log,
    finish: () => {},
    // Every evaluation says down (the first part decides it), again right after a switch.
    switching: { downLagMs, downHoldMs: 0, startHoldMs: 0 },
    shedding,
  });
  const top = streams.get(TOP)!;
  const low = streams.get(LOW)!;
  const push = (
    stream: Stream,
    seq: number,
    part: number,
    data: Uint8Array,
    last = false,
    time?: number,
  ) =>
    stream.pushPart(
      {
        type: "P",
        seq,
        part,
        independent: part === 0 || undefined,
        last: last || undefined,
        duration: last ? 1 : undefined,
        time,
      },
      data,
    );
  /** Each binary frame sent: its PIDs and the mark of its first media packet (1 top, 2 low). */
  const sent = () =>
    socket.sent.filter((item) => item instanceof Uint8Array).map((data) => ({
      pids: pidsOf(data as Uint8Array),
      mark: (data as Uint8Array).byteLength === 0 ? 0 : (data as Uint8Array).at(-184)!,
    }));
  return { group, top, low, push, sent, socket, metrics, streams };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("group spectator: after a move down mid-fragment, the rest of it goes out without video", async () => {
  const { group, top, low, push, sent, socket, metrics } = setup();
  group.begin(0, top, { maxInitialFragments: 0 });
  push(top, 1, 0, ts([VIDEO, AUDIO], 1, true)); // forwarded; the evaluation after it says down
  await tick(); // the low rendition is joined
  push(top, 1, 1, ts([VIDEO, AUDIO, VIDEO], 1));
  push(top, 1, 2, ts([VIDEO, VIDEO], 1)); // video only: nothing left, not sent
  push(top, 1, 3, ts([VIDEO], 1), true); // the last part goes out, empty: it closes fragment 1
  push(low, 2, 0, ts([VIDEO, AUDIO], 2, true)); // the switch: the low rendition whole
  push(low, 2, 1, ts([VIDEO, AUDIO], 2));
  assertEquals(sent().map((frame) => frame.pids), [
    [0, PMT_PID, VIDEO, AUDIO],
    [AUDIO],
    [],
    [0, PMT_PID, VIDEO, AUDIO],
    [VIDEO, AUDIO],
  ]);
  const parts = socket.messages().filter((message) => message.type === "P");
  assertEquals(
    parts.map((message) => message.type === "P" && `${message.seq}.${message.part}`),
    ["1.0", "1.1", "1.3", "2.0", "2.1"],
  );
  assert(parts.every((message) => message.type === "P" && !message.jump), "no jump");
  const text = await metrics.registry.metrics();
  assert(text.includes(`hlswscdn_abr_shed_bytes_total ${5 * 188}`), "five video packets shed");
  assertEquals(group.state.rendition, LOW);
});

Deno.test("group spectator: with shedding off, the rest of the fragment goes out whole", async () => {
  const { group, top, low, push, sent } = setup(false);
  group.begin(0, top, { maxInitialFragments: 0 });
  push(top, 1, 0, ts([VIDEO, AUDIO], 1, true));
  await tick();
  push(top, 1, 1, ts([VIDEO, AUDIO], 1));
  push(top, 1, 2, ts([VIDEO], 1), true);
  push(low, 2, 0, ts([VIDEO, AUDIO], 2, true));
  assertEquals(sent().map((frame) => frame.pids.length), [4, 2, 1, 4]);
  assertEquals(sent().map((frame) => frame.mark), [1, 1, 1, 2]);
});

Deno.test("group spectator: once a fragment's length is known, only its last 400 ms of video are shed", async () => {
  // downLagMs 5: a part unreported for 20 ms moves the viewer down.
  const { group, top, push, sent, socket } = setup(undefined, [TOP, LOW], 5);
  const T = 1_700_000_000_000;
  const sentBytes = () =>
    socket.sent.filter((item) => item instanceof Uint8Array)
      .reduce((sum, data) => sum + (data as Uint8Array).byteLength, 0);
  const part = (seq: number, index: number) =>
    push(
      top,
      seq,
      index,
      ts([VIDEO, AUDIO], 1, index === 0),
      index === 9,
      T + (seq - 1) * 1000 + index * 100,
    );
  group.begin(0, top, { maxInitialFragments: 0 });
  for (let index = 0; index < 10; index++) {
    part(1, index); // fragment 1, 1 s in 100 ms parts, each reported received at once
    group.report({ type: "R", bytes: sentBytes() });
  }
  part(2, 0);
  await new Promise((resolve) => setTimeout(resolve, 20));
  group.check(performance.now()); // 20 ms late: down, in fragment 2 whose length is now known
  await tick();
  for (let index = 1; index < 10; index++) part(2, index);
  const second = sent().slice(10).map((frame) => frame.pids.length);
  // Part 0 (tables, video, audio), parts 1-5 (100-500 ms) whole, parts 6-9 (the last 400 ms)
  // without video.
  assertEquals(second, [4, 2, 2, 2, 2, 2, 1, 1, 1, 1]);
  assertEquals(group.state.target, LOW);
});
