// Types of the part of mux.js the player uses (mux.js ships none).

/** One fMP4 piece of one track, as mux.js's partial transmuxer emits it. */
export interface MuxJsSegmentEvent {
  type: "video" | "audio";
  data: { track: { initSegment?: Uint8Array }; boxes: Uint8Array };
}

/** mux.js's partial (low-latency) transmuxer: MPEG-TS in, fMP4 per track out. */
export default class PartialTransmuxer {
  constructor(options?: { keepOriginalTimestamps?: boolean });
  on(event: "data", handler: (event: MuxJsSegmentEvent) => void): void;
  on(event: string, handler: (event: unknown) => void): void;
  push(bytes: Uint8Array): void;
  flush(): void;
  reset(): void;
}
