/**
 * Entry point of a node (`deno task start`, and the compiled binary): configuration, listeners,
 * signals. Everything else is in `node.ts`.
 *
 * @module
 */

import { ConfigError, type NodeConfig, parseConfig } from "./config.ts";
import { loadEnvironment } from "./dotenv.ts";
import { externalWebsocketUrl } from "./external_url.ts";
import { Logger } from "./log.ts";
import { CdnNode } from "./node.ts";
import { fleetSources } from "./sources/fleet.ts";
import { denoTransport } from "./transport/deno/websocket.ts";
import type { Listener, Transport } from "./transport/transport.ts";
import { wsTransport } from "./transport/ws/websocket.ts";

function fileExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function loadConfig(): NodeConfig {
  try {
    return parseConfig(loadEnvironment(), fileExists);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`error: invalid configuration: ${error.message}`);
      Deno.exit(2);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = new Logger(config.log);
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
  const listeners: Listener[] = [];
  try {
    if (config.http.enabled) {
      const listener = await transport.listen({
        hostname: config.http.bindAddress,
        port: config.http.port,
        maxMessageSize: config.maxBinaryMessageSize,
      }, node);
      listeners.push(listener);
      log.info(
        `HTTP listening on ${
          config.http.bindAddress || "0.0.0.0"
        }:${listener.port} (transport ${transport.name})`,
      );
    }
    if (config.tls.enabled) {
      const listener = await transport.listen({
        hostname: config.tls.bindAddress,
        port: config.tls.port,
        maxMessageSize: config.maxBinaryMessageSize,
        tls: {
          cert: Deno.readTextFileSync(config.tls.certificateFile),
          key: Deno.readTextFileSync(config.tls.privateKeyFile),
        },
      }, node);
      listeners.push(listener);
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
    // Stop accepting, but close the open sockets first: a listener's close waits for them.
    const closing = Promise.all(listeners.map((listener) => listener.close().catch(() => {})));
    await node.shutdown();
    await closing;
    log.info("stopped");
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
}

if (import.meta.main) await main();
