import { assert, assertEquals } from "../tests/helpers/assert.ts";
import {
  type FragmentStamp,
  type Message,
  parseMessage,
  writeMessage,
} from "../shared/protocol.ts";
import { HlsWebSocket, type LevelSwitchedInfo } from "./index.ts";
import { FakeMediaElement, installFakeMse } from "./testing/fake_media.ts";
import { type FakeWebSocket, installFakeWebSocket } from "../shared/testing/fake_websocket.ts";
import { tinyTs } from "./testing/tiny_ts.ts";
import { until } from "../shared/testing/until.ts";

const HIGH = "room/live/1280x720-30~2500";
const LOW = "room/live/640x360-30~800";

/** What the player sent after its `PULL`, parsed. */
function sentMessages(socket: FakeWebSocket): Message[] {
  return socket.sent.map((text) => parseMessage(text));
}

function setUp() {
  const player = new HlsWebSocket({
    cdnServerUrl: "ws://127.0.0.1:9/",
    streamId: "room/live",
    authToken: "token",
    group: true,
  });
  const switches: LevelSwitchedInfo[] = [];
  player.addEventListener("levelswitched", (info) => switches.push(info));
  return { player, switches, media: new FakeMediaElement() };
}

/** Lets the fakes' pending tasks finish, so that a test leaves no timer behind. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

Deno.test("a group pull lists abr and group=1; a pull of one stream keeps the caps it had", () => {
  using sockets = installFakeWebSocket();
  const { player } = setUp();
  player.start();
  sockets.created[0].open();
  const pull = parseMessage(sockets.created[0].sent[0]);
  assert(pull.type === "PULL" && pull.group === true, sockets.created[0].sent[0]);
  assertEquals(pull.caps, ["errors", "clock", "abr"]);
  player.destroy();

  const plain = new HlsWebSocket({
    cdnServerUrl: "ws://127.0.0.1:9/",
    streamId: "a",
    authToken: "",
  });
  plain.start();
  sockets.created[1].open();
  const other = parseMessage(sockets.created[1].sent[0]);
  assert(other.type === "PULL" && other.group === undefined);
  assertEquals(other.caps, ["errors", "clock"]);
  assertEquals(plain.levels, []);
  assertEquals(plain.currentLevel, -1);
  plain.currentLevel = -1; // harmless without levels
  plain.destroy();
});

Deno.test("levels, levelswitched, R reports, PIN and a switch with new codecs on MSE", async () => {
  using _mse = installFakeMse({ accepts: (type) => type.startsWith("video/mp2t") });
  using sockets = installFakeWebSocket();
  const { player, switches, media } = setUp();
  player.attachMedia(media.element);
  player.start();
  const socket = sockets.created[0];
  socket.open();
  socket.text(writeMessage({
    type: "OK",
    parts: true,
    caps: ["errors", "clock", "abr"],
    renditions: [HIGH, LOW],
  }));
  await until(() => player.levels.length === 2, "the levels");
  assertEquals(
    player.levels.map(({ id, width, height, bitrate }) => [id, width, height, bitrate]),
    [
      [HIGH, 1280, 720, 2_500_000],
      [LOW, 640, 360, 800_000],
    ],
  );
  assert(player.autoLevelEnabled);

  const part = (seq: number, part: number, data: Uint8Array, stamp: FragmentStamp = {}) => {
    socket.text(writeMessage({ type: "P", seq, part, independent: part === 0, ...stamp }));
    socket.binary(data);
  };
  part(1, 0, tinyTs({ pts: 10, level: 0x1f }), { rendition: HIGH, reason: "start" });
  part(1, 1, tinyTs({ pts: 10.1, tables: false, level: 0x1f }));
  assertEquals(switches, [{ level: 0, id: HIGH, reason: "start", previous: -1 }]);
  assertEquals(player.currentLevel, 0);
  assertEquals([player.stats.rendition, player.stats.switchReason], [HIGH, "start"]);

  // Receive reports: the first at once, the second (100 ms later at most) by the reporter's timer.
  await until(
    () => sentMessages(socket).filter((message) => message.type === "R").length === 2,
    "two reports",
  );
  const reports = sentMessages(socket).filter((message) => message.type === "R");
  const bytes = reports.map((report) => report.type === "R" ? report.bytes : 0);
  assertEquals(bytes, [188 * 4, 188 * 6]);
  const last = reports[1];
  assert(last.type === "R" && last.seq === 1 && last.part === 1 && last.size === 188 * 2);
  assert(last.t !== undefined && last.span !== undefined && last.span >= 0);

  // Pin the low level: PIN goes out; the node moves at the next fragment start.
  player.currentLevel = 1;
  assert(!player.autoLevelEnabled);
  assertEquals(sentMessages(socket).at(-1), { type: "PIN", rendition: LOW });
  part(2, 0, tinyTs({ pts: 12, level: 0x0d }), {
    rendition: LOW,
    reason: "pin",
    codecs: "avc1.42c00d,mp4a.40.2",
  });
  assertEquals(switches.at(-1), { level: 1, id: LOW, reason: "pin", previous: 0 });
  assertEquals(player.currentLevel, 1);
  assertEquals([player.stats.rendition, player.stats.switchReason, player.stats.levelSwitches], [
    LOW,
    "pin",
    1,
  ]);
  const [buffer] = media.source!.sourceBuffers;
  await until(
    () => buffer.operations.filter((operation) => operation.op === "append").length === 3,
    "three appends",
  );
  const kinds = buffer.operations.map((operation) =>
    operation.op === "changeType" ? `type ${operation.type}` : operation.op
  );
  assertEquals(kinds.slice(-2), ['type video/mp2t; codecs="avc1.42c00d,mp4a.40.2"', "append"]);
  assertEquals(buffer.type, 'video/mp2t; codecs="avc1.42c01f,mp4a.40.2"', "the buffer made first");

  // Back to automatic.
  player.currentLevel = -1;
  assert(player.autoLevelEnabled);
  assertEquals(sentMessages(socket).at(-1), { type: "PIN" });
  let error: unknown;
  try {
    player.currentLevel = 2;
  } catch (caught) {
    error = caught;
  }
  assert(error instanceof RangeError);
  await settle();
  player.destroy();
});

Deno.test("a pin survives a reconnection; a node without abr gets no R and no PIN", async () => {
  using sockets = installFakeWebSocket();
  const { player } = setUp();
  player.start();
  const first = sockets.created[0];
  first.open();
  first.text(writeMessage({ type: "OK", parts: true, caps: ["errors"], renditions: [HIGH] }));
  first.text(writeMessage({ type: "P", seq: 1, part: 0, independent: true, rendition: HIGH }));
  first.binary(tinyTs({ pts: 10 }));
  player.currentLevel = -1;
  await settle();
  assertEquals(first.sent.filter((text) => /^(R|PIN)\b/.test(text)), [], "abr was not granted");
  assertEquals(player.levels, [], "renditions without abr are not read");
  player.destroy();

  const { player: second } = setUp();
  second.start();
  const socket = sockets.created[1];
  socket.open();
  socket.text(writeMessage({ type: "OK", parts: true, caps: ["abr"], renditions: [HIGH, LOW] }));
  await until(() => second.levels.length === 2, "the levels");
  second.currentLevel = 1;
  socket.drop(1006);
  await until(() => sockets.created.length === 3, "a reconnection", 5000);
  const again = sockets.created[2];
  again.open();
  again.text(writeMessage({ type: "OK", parts: true, caps: ["abr"], renditions: [HIGH, LOW] }));
  await until(() => again.sent.length >= 2, "the PIN again");
  assertEquals(parseMessage(again.sent.at(-1)!), { type: "PIN", rendition: LOW });
  assertEquals(second.currentLevel, -1, "no media yet");
  assert(!second.autoLevelEnabled);
  second.destroy();
});
