/**
 * Glass to glass from the picture: a time code in each frame, read back from each presented frame.
 *
 * - In ffmpeg ({@linkcode withTimeCode}): right after the test pattern is made (and paced by
 *   `-re`), every frame's wall clock (`RTCTIME`) becomes its timestamp for a moment; `geq` draws
 *   its low 32 bits of milliseconds as a row of 32 black/white blocks (most significant first) in
 *   a strip at the top of the picture, and under it the frame's number (16 blocks, to count the
 *   frames never shown), then the timestamps are put back to start at 0.
 * - In the page ({@linkcode TIME_CODE_READER}): `requestVideoFrameCallback` on every presented
 *   frame draws one line of the strip into a canvas and reads the blocks; the sample is the
 *   frame's expected display time (on the same machine clock) minus the code.
 *
 * @example
 * ```ts ignore
 * const args = withTimeCode(ffmpegArgs(plan), 1280);
 * await page.evaluate(TIME_CODE_READER);
 * const frames = await page.evaluate("window.timeCode.take()"); // [{ shown, code }...]
 * ```
 * @module
 */

/** Blocks of the code (bits). */
export const CODE_BITS = 32;
/** Blocks of the frame number. */
export const FRAME_BITS = 16;
/** Height of the strip (two rows), in pixels of the picture. */
const STRIP_HEIGHT = 32;

/** The filter chain that draws the strip on a `width` wide picture, ending in `[output]`. */
function timeCodeChain(width: number, output: string): string {
  const block = width / CODE_BITS;
  const bit = `31-floor(X/${block})`;
  const clock = `255*mod(floor(T*1000/pow(2\\,${bit}))\\,2)`;
  const frameBit = `15-floor(X/${width / FRAME_BITS})`;
  const frame = `255*mod(floor(N/pow(2\\,${frameBit}))\\,2)`;
  const lum = `if(lt(Y\\,${STRIP_HEIGHT / 2})\\,${clock}\\,${frame})`;
  return "settb=1/1000,setpts=RTCTIME/1000,split[tcmain][tcstrip];" +
    `[tcstrip]crop=${width}:${STRIP_HEIGHT}:0:0,format=yuv420p,` +
    `geq=lum='${lum}':cb=128:cr=128[tccode];` +
    `[tcmain][tccode]overlay=0:0,setpts=PTS-STARTPTS[${output}]`;
}

function filterGraphAt(args: string[]): number {
  const at = args.indexOf("-filter_complex");
  if (at < 0) throw new Error("no filter graph");
  return at + 1;
}

/**
 * Puts the time-code strip into the filter graph of `ffmpegArgs` (one rendition): the chain that
 * ends in `null[s0]` gets it just before.
 */
export function withTimeCode(args: string[], width: number): string[] {
  const at = filterGraphAt(args);
  if (!args[at].includes("null[s0]")) throw new Error(`unexpected filter graph: ${args[at]}`);
  const copy = [...args];
  copy[at] = args[at].replace("null[s0]", timeCodeChain(width, "s0"));
  return copy;
}

/**
 * Puts the time-code strip into the filter graph of `ffmpegArgs` of several renditions, before
 * the `split` into them: every rendition carries the same strip, scaled with its picture (the
 * page's reader scales by `videoWidth / 1280`, so the source is to be 1280 wide).
 */
export function withTimeCodeBeforeSplit(args: string[], width: number): string[] {
  const at = filterGraphAt(args);
  const match = /split=(\d+)\[s0\]/.exec(args[at]);
  if (match === null) throw new Error(`unexpected filter graph: ${args[at]}`);
  const copy = [...args];
  copy[at] = args[at].replace(match[0], `${timeCodeChain(width, "tcv")};[tcv]${match[0]}`);
  return copy;
}

/** One presented frame: when it was shown (ms since the epoch) and the code it carried. */
export interface CodedFrame {
  /** Expected display time, ms since the epoch. */
  shown: number;
  /** Capture clock from the picture (ms since the epoch), or null when unreadable. */
  code: number | null;
  /** The frame's number at the source (16 bits). */
  frame: number;
}

/**
 * Script for a page with `<video id="video">`: records every presented frame's code into
 * `window.timeCode` (`take()` returns and forgets them).
 */
export const TIME_CODE_READER = `(() => {
  const video = document.getElementById("video");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const frames = [];
  window.timeCode = { take: () => frames.splice(0) };
  const read = (now, meta) => {
    const width = video.videoWidth;
    if (width > 0) {
      if (canvas.width !== width) { canvas.width = width; canvas.height = 2; }
      const scale = width / 1280;
      context.drawImage(video, 0, Math.round(${
  STRIP_HEIGHT / 4
} * scale), width, 1, 0, 0, width, 1);
      context.drawImage(video, 0, Math.round(${
  (STRIP_HEIGHT * 3) / 4
} * scale), width, 1, 0, 1, width, 1);
      const data = context.getImageData(0, 0, width, 2).data;
      const bits = (count, row) => {
        let value = 0;
        for (let bit = 0; bit < count; bit++) {
          const x = Math.floor((bit + 0.5) * width / count);
          value = value * 2 + (data[(row * width + x) * 4 + 1] > 128 ? 1 : 0);
        }
        return value;
      };
      const low = bits(${CODE_BITS}, 0);
      const frame = bits(${FRAME_BITS}, 1);
      const shown = performance.timeOrigin + meta.expectedDisplayTime;
      // The low 32 bits of the capture clock: the capture is the latest such time before display.
      const back = ((shown - low) % 2 ** 32 + 2 ** 32) % 2 ** 32;
      frames.push({ shown, code: back < 10000 ? shown - back : null, frame });
    }
    video.requestVideoFrameCallback(read);
  };
  video.requestVideoFrameCallback(read);
})()`;

/** What the frames of one viewer say. */
export interface PictureNumbers {
  /** Glass to glass of every readable frame, ms. */
  latencies: number[];
  /** Frames presented. */
  presented: number;
  /** Frames whose code could not be read. */
  unreadable: number;
  /** Frames of the source never presented (gaps in the frame numbers), as a share of the source's. */
  droppedShare: number;
  /** Gaps of more than 200 ms between two presented frames. */
  stalls: number;
}

/** Reads the frames of one viewer (a `fps` source). */
export function pictureNumbers(frames: CodedFrame[], fps = 30): PictureNumbers {
  const readable = frames.filter((frame): frame is CodedFrame & { code: number } =>
    frame.code !== null
  );
  let missing = 0;
  let stalls = 0;
  let span = 0;
  for (let index = 1; index < readable.length; index++) {
    const step = (readable[index].frame - readable[index - 1].frame + 65536) % 65536;
    // A step back or a very long one is a misread or a jump: not counted as drops.
    if (step >= 1 && step < fps * 10) {
      missing += step - 1;
      span += step;
    }
    if (readable[index].shown - readable[index - 1].shown > 200) stalls++;
  }
  const expected = Math.max(1, span + 1);
  return {
    latencies: readable.map((frame) => frame.shown - frame.code),
    presented: frames.length,
    unreadable: frames.length - readable.length,
    droppedShare: missing / expected,
    stalls,
  };
}

/**
 * Two viewers: for each frame the first showed, the code the second showed at that moment; the
 * differences in ms (positive: the first is ahead).
 */
export function viewerDifferences(first: CodedFrame[], second: CodedFrame[]): number[] {
  const other = second.filter((frame) => frame.code !== null);
  const differences: number[] = [];
  let index = 0;
  for (const frame of first) {
    if (frame.code === null) continue;
    while (index + 1 < other.length && other[index + 1].shown <= frame.shown) index++;
    const shownThere = other[index];
    if (shownThere === undefined || shownThere.shown > frame.shown) continue;
    if (frame.shown - shownThere.shown > 200) continue; // the second was stalled
    differences.push(frame.code - shownThere.code!);
  }
  return differences;
}
