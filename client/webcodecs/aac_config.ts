/**
 * The AAC decoder configuration WebCodecs wants (`AudioDecoder.configure`): codec string, sample
 * rate, channels and the two-byte AudioSpecificConfig (ISO/IEC 14496-3), built from an ADTS
 * header (object type, sampling frequency index, channel configuration).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { aacConfigFromAdts } from "./aac_config.ts";
 * // AAC-LC, 48 kHz (index 3), stereo
 * const adts = new Uint8Array([0xff, 0xf1, 0x4c, 0x80, 0x00, 0x1f, 0xfc]);
 * const config = aacConfigFromAdts(adts, 0);
 * assert.deepEqual([...config.description], [0x11, 0x90]);
 * assert(config.codec === "mp4a.40.2" && config.sampleRate === 48000 && config.numberOfChannels === 2);
 * ```
 * @module
 */

import { SAMPLE_RATES } from "../../shared/mpegts/adts.ts";

/** What `AudioDecoder.configure` takes for AAC. */
export interface AacConfig {
  /** `mp4a.40.N`. */
  codec: string;
  /** Samples per second. */
  sampleRate: number;
  /** Channels. */
  numberOfChannels: number;
  /** AudioSpecificConfig. */
  description: Uint8Array;
}

/** The configuration of the ADTS frame at `data[offset]` (the header must be valid). */
export function aacConfigFromAdts(data: Uint8Array, offset: number): AacConfig {
  const objectType = (data[offset + 2] >> 6) + 1;
  const rateIndex = (data[offset + 2] >> 2) & 0x0f;
  const channels = (data[offset + 2] & 0x01) << 2 | data[offset + 3] >> 6;
  return {
    codec: `mp4a.40.${objectType}`,
    sampleRate: SAMPLE_RATES[rateIndex] ?? 48000,
    numberOfChannels: channels === 7 ? 8 : Math.max(1, channels),
    description: new Uint8Array([
      objectType << 3 | rateIndex >> 1,
      (rateIndex & 1) << 7 | channels << 3,
    ]),
  };
}

/** Whether two configurations decode the same way. */
export function sameAacConfig(a: AacConfig, b: AacConfig): boolean {
  return a.codec === b.codec && a.sampleRate === b.sampleRate &&
    a.numberOfChannels === b.numberOfChannels && a.description[0] === b.description[0] &&
    a.description[1] === b.description[1];
}
