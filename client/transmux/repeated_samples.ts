/**
 * Drops samples that mux.js's partial transmuxer emits twice. Flushed after each part, it writes
 * the part's last video frame, and then writes the same frame (same decode time, same bytes) again
 * at the start of the next part's output. Appended twice, Chromium decodes the frame twice and
 * drops one copy: one frame in every part (about one in six at 200 ms parts) showed up as dropped.
 *
 * mux.js writes one `moof` + `mdat` pair per sample in this mode, so a repeated sample is removed
 * by leaving out its pair. A pair whose decode time (`tfdt`) is not after the last one kept is a
 * repeat; a reset of the timeline (a discontinuity) forgets the last decode time.
 *
 * @example
 * ```ts ignore
 * const filter = new RepeatedSampleFilter();
 * const fresh = filter.filter(segment.data); // the same bytes without repeated moof+mdat pairs
 * filter.reset();                            // after a discontinuity
 * ```
 * @module
 */

/** A box inside `data`: its type and byte range. */
interface Box {
  type: string;
  start: number;
  end: number;
}

function boxesIn(data: Uint8Array, from: number, to: number): Box[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const boxes: Box[] = [];
  for (let offset = from; offset + 8 <= to;) {
    const size = view.getUint32(offset);
    if (size < 8 || offset + size > to) break;
    const type = String.fromCharCode(...data.subarray(offset + 4, offset + 8));
    boxes.push({ type, start: offset, end: offset + size });
    offset += size;
  }
  return boxes;
}

/** The `baseMediaDecodeTime` of the first `traf` of a `moof`, if it has one. */
export function moofDecodeTime(
  data: Uint8Array,
  moof: { start: number; end: number },
): number | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (const traf of boxesIn(data, moof.start + 8, moof.end)) {
    if (traf.type !== "traf") continue;
    for (const box of boxesIn(data, traf.start + 8, traf.end)) {
      if (box.type !== "tfdt") continue;
      return data[box.start + 8] === 1
        ? Number(view.getBigUint64(box.start + 12))
        : view.getUint32(box.start + 12);
    }
  }
  return undefined;
}

/** Keeps the last decode time of one track and removes repeats from its media segments. */
export class RepeatedSampleFilter {
  #last: number | undefined;

  /** `data` without the `moof` + `mdat` pairs whose decode time is not after the last kept. */
  filter(data: Uint8Array): Uint8Array {
    const boxes = boxesIn(data, 0, data.byteLength);
    const kept: Box[] = [];
    let dropped = false;
    for (let index = 0; index < boxes.length; index++) {
      const box = boxes[index];
      const next = boxes[index + 1];
      if (box.type !== "moof" || next?.type !== "mdat") {
        kept.push(box);
        continue;
      }
      const time = moofDecodeTime(data, box);
      index++; // the mdat goes with its moof
      if (time !== undefined && this.#last !== undefined && time <= this.#last) {
        dropped = true;
        continue;
      }
      if (time !== undefined) this.#last = time;
      kept.push(box, next);
    }
    if (!dropped) return data;
    const size = kept.reduce((sum, box) => sum + box.end - box.start, 0);
    const result = new Uint8Array(size);
    let offset = 0;
    for (const box of kept) {
      result.set(data.subarray(box.start, box.end), offset);
      offset += box.end - box.start;
    }
    return result;
  }

  /** Forgets the last decode time (the timeline restarts). */
  reset(): void {
    this.#last = undefined;
  }
}
