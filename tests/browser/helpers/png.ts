/**
 * A small PNG decoder for screenshots (8-bit RGB or RGBA, not interlaced, as Chromium writes them),
 * so tests can check what is on screen: `DecompressionStream` inflates, the row filters are undone
 * here.
 *
 * @example
 * ```ts ignore
 * const image = await decodePng(await page.screenshot());
 * const [r, g, b] = image.pixel(10, 10);
 * ```
 * @module
 */

/** A decoded image. */
export interface DecodedImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Bytes per pixel (3 or 4). */
  channels: number;
  /** Unfiltered pixel bytes, row after row. */
  data: Uint8Array;
  /** The red, green and blue values at (x, y). */
  pixel(x: number, y: number): [number, number, number];
}

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes an 8-bit RGB/RGBA PNG. */
export async function decodePng(png: Uint8Array): Promise<DecodedImage> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  if (view.getUint32(0) !== 0x89504e47) throw new Error("not a PNG");
  let width = 0, height = 0, channels = 0;
  const idat: Uint8Array[] = [];
  for (let offset = 8; offset + 8 <= png.byteLength;) {
    const length = view.getUint32(offset);
    const type = new TextDecoder().decode(png.subarray(offset + 4, offset + 8));
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      const depth = body[8], colorType = body[9], interlace = body[12];
      if (depth !== 8 || (colorType !== 2 && colorType !== 6) || interlace !== 0) {
        throw new Error(
          `unsupported PNG (depth ${depth}, color type ${colorType}, interlace ${interlace})`,
        );
      }
      channels = colorType === 6 ? 4 : 3;
    } else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
    offset += 12 + length;
  }
  const compressed = new Uint8Array(idat.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of idat) {
    compressed.set(part, at);
    at += part.byteLength;
  }
  const raw = await inflate(compressed);
  const stride = width * channels;
  const data = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? data[row + x - channels] : 0;
      const up = y > 0 ? data[row - stride + x] : 0;
      const upLeft = y > 0 && x >= channels ? data[row - stride + x - channels] : 0;
      let value = line[x];
      if (filter === 1) value += left;
      else if (filter === 2) value += up;
      else if (filter === 3) value += (left + up) >> 1;
      else if (filter === 4) value += paeth(left, up, upLeft);
      data[row + x] = value & 0xff;
    }
  }
  return {
    width,
    height,
    channels,
    data,
    pixel(x, y) {
      const index = y * stride + x * channels;
      return [data[index], data[index + 1], data[index + 2]];
    },
  };
}

/** Mean and standard deviation of the luminance of an image, and its number of distinct colours (coarse). */
export function imageStats(
  image: DecodedImage,
): { mean: number; deviation: number; colors: number } {
  let sum = 0, squares = 0, count = 0;
  const colors = new Set<number>();
  for (let y = 0; y < image.height; y += 2) {
    for (let x = 0; x < image.width; x += 2) {
      const [r, g, b] = image.pixel(x, y);
      const luma = 0.299 * r + 0.587 * g + 0.114 * b;
      sum += luma;
      squares += luma * luma;
      count++;
      colors.add((r >> 4) << 8 | (g >> 4) << 4 | (b >> 4));
    }
  }
  const mean = sum / count;
  return {
    mean,
    deviation: Math.sqrt(Math.max(0, squares / count - mean * mean)),
    colors: colors.size,
  };
}
