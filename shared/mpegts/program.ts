/**
 * Follows the program of a transport stream: reads PAT and PMT as they pass, keeps the latest
 * packets that carry them (so a fragment can be given its tables again), and says which PIDs
 * carry the video and the audio.
 *
 * Only the first program of the PAT is followed (what encoders write for one live stream).
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts ignore
 * const program = new ProgramTracker();
 * for (const packet of packets) program.observe(packet);
 * console.log(program.video?.pid, program.audio?.type);
 * ```
 * @module
 */

import { packetPid, PAT_PID, payloadUnitStart } from "./packet.ts";
import {
  isAudioStreamType,
  isVideoStreamType,
  parsePat,
  parsePmt,
  type Pmt,
  type PmtStream,
  SectionReader,
  TABLE_ID_PAT,
  TABLE_ID_PMT,
} from "./psi.ts";

/** Collects the packets of a table until a whole section has been read from them. */
class TablePackets {
  readonly reader = new SectionReader();
  #collecting: Uint8Array[] = [];
  /** The packets of the newest complete table, copied. */
  latest: Uint8Array[] = [];

  /** Feeds a packet; returns the sections it completed. */
  push(packet: Uint8Array): Uint8Array[] {
    if (payloadUnitStart(packet)) this.#collecting = [];
    this.#collecting.push(packet.slice());
    const sections = this.reader.push(packet);
    if (sections.length > 0) {
      this.latest = this.#collecting;
      this.#collecting = [];
    }
    return sections;
  }
}

/** The state of the program seen so far. */
export class ProgramTracker {
  #pat = new TablePackets();
  #pmt: TablePackets | null = null;
  #pmtPid = -1;
  #table: Pmt | null = null;
  #video: PmtStream | undefined;
  #audio: PmtStream | undefined;

  /** PID of the PMT, or -1 before a PAT was read. */
  get pmtPid(): number {
    return this.#pmtPid;
  }

  /** The latest PMT, or null before one was read. */
  get pmt(): Pmt | null {
    return this.#table;
  }

  /** The first video stream of the PMT. */
  get video(): PmtStream | undefined {
    return this.#video;
  }

  /** The first audio stream of the PMT. */
  get audio(): PmtStream | undefined {
    return this.#audio;
  }

  /** Whether both tables have been read, so a fragment can be given them. */
  get ready(): boolean {
    return this.#pat.latest.length > 0 && this.#pmt !== null && this.#pmt.latest.length > 0;
  }

  /** The packets of the latest PAT and then of the latest PMT. */
  get tablePackets(): Uint8Array[] {
    return [...this.#pat.latest, ...(this.#pmt?.latest ?? [])];
  }

  /** Whether `pid` carries PAT or PMT. */
  isTablePid(pid: number): boolean {
    return pid === PAT_PID || pid === this.#pmtPid;
  }

  /** Whether `pid` carries an elementary stream of the program. */
  isMediaPid(pid: number): boolean {
    return this.#table?.streams.some((stream) => stream.pid === pid) ?? false;
  }

  /** Reads a packet if it carries PAT or PMT; returns whether it did. */
  observe(packet: Uint8Array): boolean {
    const pid = packetPid(packet);
    if (pid === PAT_PID) {
      for (const section of this.#pat.push(packet)) {
        if (section[0] !== TABLE_ID_PAT) continue;
        const program = parsePat(section)[0];
        if (program !== undefined && program.pmtPid !== this.#pmtPid) {
          this.#pmtPid = program.pmtPid;
          this.#pmt = new TablePackets();
        }
      }
      return true;
    }
    if (pid === this.#pmtPid && this.#pmt !== null) {
      for (const section of this.#pmt.push(packet)) {
        if (section[0] !== TABLE_ID_PMT) continue;
        const table = parsePmt(section);
        this.#table = table;
        this.#video = table.streams.find((stream) => isVideoStreamType(stream.type));
        this.#audio = table.streams.find((stream) => isAudioStreamType(stream.type));
      }
      return true;
    }
    return false;
  }
}
