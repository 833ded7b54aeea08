/**
 * Waiting in tests until another process listens on a local port, read from the kernel's socket
 * tables (`/proc/net/tcp*`, `/proc/net/udp*`), so the check never connects: an `ffmpeg -listen`
 * accepts one connection only, and a probe would take it.
 *
 * @example
 * ```ts ignore
 * await waitListening(1935, "tcp", 5000); // ffmpeg's RTMP listener is up: start the encoder
 * ```
 * @module
 */

/** Whether a socket of `protocol` is bound to local `port` (TCP: in the LISTEN state). */
export async function isListening(port: number, protocol: "tcp" | "udp"): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of [protocol, `${protocol}6`]) {
    let text: string;
    try {
      text = await Deno.readTextFile(`/proc/net/${table}`);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4 || !fields[1].endsWith(`:${hexPort}`)) continue;
      if (protocol === "udp" || fields[3] === "0A") return true;
    }
  }
  return false;
}

/** Waits until something listens on `port`, or throws after `timeoutMs`. */
export async function waitListening(
  port: number,
  protocol: "tcp" | "udp",
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!await isListening(port, protocol)) {
    if (performance.now() > deadline) {
      throw new Error(`nothing listens on ${protocol} port ${port} after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
