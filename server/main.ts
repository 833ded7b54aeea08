/**
 * Entry point of a node (`deno task start`, and the compiled binary): configuration, listeners,
 * signals. Everything else is in `node.ts`.
 *
 * @module
 */

import { ConfigError, type NodeConfig, parseConfig } from "./config.ts";
import { configWarnings } from "./config_warnings.ts";
import { loadEnvironment } from "./dotenv.ts";
import { externalWebsocketUrl } from "./external_url.ts";
import { Logger } from "./log.ts";
import { nodeRequestHandler } from "./http.ts";
import { CdnNode } from "./node.ts";
import { fleetSources } from "./fleet.ts";
import { CertificateReloader, startupCertificate } from "./tls_reloader.ts";
import { denoTransport } from "./transport/deno/websocket.ts";
import type { Listener, Transport } from "./transport/transport.ts";
import { wsTransport } from "./transport/ws/websocket.ts";

/** What to do about a file the node may not read (`deno task start` grants a few folders). */
const READ_HINT = "; or it is outside what this node may read: `deno task start` reads its own " +
  "folder, /etc and /run/secrets; add the file's folder with --allow-read (see " +
  "documentation/operations.md#permissions)";

/** Files named by the configuration that the node has no permission to read. */
const denied = new Set<string>();

function mayRead(path: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "read", path }).state === "granted";
  } catch {
    return false;
  }
}

function fileExists(path: string): boolean {
  if (!mayRead(path)) {
    denied.add(path);
    return false;
  }
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function loadConfig(): NodeConfig {
  const envFile = Deno.env.get("ENV_FILE") ?? ".env";
  try {
    return parseConfig(loadEnvironment(envFile), fileExists);
  } catch (error) {
    if (error instanceof ConfigError) {
      const hint = [...denied].some((path) => error.message.includes(JSON.stringify(path)))
        ? READ_HINT
        : "";
      console.error(`error: invalid configuration: ${error.message}${hint}`);
      Deno.exit(2);
    }
    if (error instanceof Deno.errors.NotCapable) {
      console.error(
        `error: invalid configuration: ENV_FILE=${JSON.stringify(envFile)}${READ_HINT}`,
      );
      Deno.exit(2);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = new Logger(config.log);
  for (const warning of configWarnings(config)) log.warning(warning);
  const transport: Transport = config.transport === "deno" ? denoTransport : wsTransport;
  const secureOnly = config.tls.enabled && !config.http.enabled;
  config.externalWebsocketUrl = externalWebsocketUrl({
    configured: config.externalWebsocketUrl,
    secure: secureOnly,
    port: secureOnly ? config.tls.port : config.http.port,
    prefix: config.websocketPrefix,
    interfaces: Deno.networkInterfaces(),
  });
  const node = new CdnNode(config, log, fleetSources);
  try {
    await node.verifier.ready();
  } catch (error) {
    console.error(`error: invalid public keys: ${error instanceof Error ? error.message : error}`);
    Deno.exit(2);
  }
  const handler = nodeRequestHandler(node);
  const listeners: Listener[] = [];
  let reloader: CertificateReloader | undefined;
  const requestTimeoutMs = config.timeouts.requestSeconds * 1000;
  try {
    if (config.http.enabled) {
      const listener = await transport.listen({
        hostname: config.http.bindAddress,
        port: config.http.port,
        maxMessageSize: config.maxBinaryMessageSize,
        requestTimeoutMs,
      }, handler);
      listeners.push(listener);
      log.info(
        `HTTP listening on ${
          config.http.bindAddress || "0.0.0.0"
        }:${listener.port} (transport ${transport.name})`,
      );
    }
    if (config.tls.enabled) {
      const { certificateFile, privateKeyFile } = config.tls;
      const certificate = startupCertificate(certificateFile, privateKeyFile, log, node.metrics);
      const listener = await transport.listen({
        hostname: config.tls.bindAddress,
        port: config.tls.port,
        maxMessageSize: config.maxBinaryMessageSize,
        requestTimeoutMs,
        tls: certificate,
      }, handler);
      listeners.push(listener);
      reloader = new CertificateReloader({
        certificateFile,
        privateKeyFile,
        intervalSeconds: config.tls.checkReloadSeconds,
        current: certificate,
        apply: (next) => listener.setCertificate(next),
        log: log.child("tls"),
        metrics: node.metrics,
      });
      log.info(
        `TLS listening on ${
          config.tls.bindAddress || "0.0.0.0"
        }:${listener.port} (transport ${transport.name})`,
      );
    }
  } catch (error) {
    console.error(`error: cannot listen: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
  log.info(`node ${config.nodeId} ready; external URL ${config.externalWebsocketUrl}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down`);
    // Whatever happens, the process is gone shortly after the graceful deadline.
    const bound = setTimeout(() => {
      log.error("shutdown did not finish in time; exiting");
      Deno.exit(1);
    }, (config.timeouts.shutdownSeconds + 5) * 1000);
    reloader?.destroy();
    // Stop accepting, but close the open sockets first: a listener's close waits for them.
    const closing = Promise.all(listeners.map((listener) => listener.close().catch(() => {})));
    await node.shutdown();
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 2000))]);
    clearTimeout(bound);
    log.info("stopped");
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
}

if (import.meta.main) await main();
