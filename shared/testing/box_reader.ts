/**
 * Test support: reads ISO BMFF boxes back (type, payload, children), so tests assert on the
 * fields the writer put in.
 *
 * @example
 * ```ts ignore
 * const [moof, mdat] = readBoxes(fragment);
 * const traf = child(moof, "traf");
 * ```
 * @module
 */

/** A box read back. */
export interface ReadBox {
  /** Four-character type. */
  type: string;
  /** Its bytes after the 8-byte header. */
  payload: Uint8Array;
  /** Offset of the box in the bytes it was read from. */
  offset: number;
  /** Size, header included. */
  size: number;
}

const CONTAINERS = new Set([
  "moov",
  "trak",
  "mdia",
  "minf",
  "stbl",
  "mvex",
  "moof",
  "traf",
  "dinf",
]);

/** The boxes one after the other in `data`; throws when a size runs past the end. */
export function readBoxes(data: Uint8Array, base = 0): ReadBox[] {
  const boxes: ReadBox[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  while (offset < data.byteLength) {
    const size = view.getUint32(offset);
    if (size < 8 || offset + size > data.byteLength) throw new RangeError(`bad box size ${size}`);
    const type = String.fromCharCode(...data.subarray(offset + 4, offset + 8));
    boxes.push({
      type,
      payload: data.subarray(offset + 8, offset + size),
      offset: base + offset,
      size,
    });
    offset += size;
  }
  return boxes;
}

/** The first child of type `type` of a container box (by path: `child(moov, "trak", "mdia")`). */
export function child(parent: ReadBox, ...path: string[]): ReadBox {
  let current = parent;
  for (const type of path) {
    if (!CONTAINERS.has(current.type)) throw new RangeError(`${current.type} is no container`);
    const found = readBoxes(current.payload).find((box) => box.type === type);
    if (found === undefined) throw new RangeError(`no ${type} in ${current.type}`);
    current = found;
  }
  return current;
}

/** All children of type `type` of a container box. */
export function children(parent: ReadBox, type: string): ReadBox[] {
  return readBoxes(parent.payload).filter((box) => box.type === type);
}

/** A big-endian reader over a payload. */
export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
