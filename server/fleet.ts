/**
 * The sources a node asks after its local publications, as configured: the Redis publish registry
 * (`PUB_REG_REDIS_ENABLED`), then the upstream relay (`RELAY_FROM_ENABLED`). Both relay through one
 * {@linkcode RelayHub}, so a stream has one upstream connection whichever source found it. This is
 * the `extraSources` factory that `main.ts` gives to `CdnNode`; another kind of source (a static
 * origin list, another registry) is one more entry here. Here too the registry is wired to the
 * node's publications: it hears of every stream published, ended and waiting for its publisher.
 *
 * @example
 * ```ts ignore
 * const node = new CdnNode(config, log, fleetSources);
 * ```
 * @module
 */

import type { NodeParts } from "./node.ts";
import type { LocalPublications } from "./sources/local.ts";
import { HostList } from "./limits/host_list.ts";
import { PublishRegistry } from "./sources/registry/publish_registry.ts";
import { createRedisClient } from "./sources/registry/redis_client.ts";
import { RelayHub } from "./sources/relay/relay_hub.ts";
import { RegistrySource } from "./sources/registry/registry_source.ts";
import { RelaySource } from "./sources/relay/relay_source.ts";
import { UpstreamGroupDirectory } from "./groups/group_directory.ts";
import type { StreamSource } from "./sources/source.ts";

/** Builds the registry and relay sources of a node from its configuration. */
export function fleetSources(node: NodeParts): StreamSource[] {
  const { config, log } = node;
  const hub = new RelayHub({
    config,
    memory: node.memory,
    metrics: node.metrics,
    log,
    signPull: node.signPull,
  });
  const sources: StreamSource[] = [];
  if (config.registry.enabled) {
    const registry = new PublishRegistry({
      client: createRedisClient(config.registry),
      local: node.publications,
      namespace: config.registry.namespace,
      url: config.externalWebsocketUrl,
      refreshIntervalSeconds: config.registry.refreshIntervalSeconds,
      timeoutMs: config.registry.timeoutSeconds * 1000,
      log,
      metrics: node.metrics,
    });
    followPublications(node.publications, registry);
    sources.push(
      new RegistrySource({
        registry,
        hub,
        ownUrl: config.externalWebsocketUrl,
        allowedHosts: config.registry.allowedHosts.length > 0
          ? new HostList(config.registry.allowedHosts)
          : null,
        log,
      }),
    );
  }
  if (config.relay.enabled) {
    const groups = new UpstreamGroupDirectory({
      url: config.relay.url,
      signPull: node.signPull,
      timeoutMs: config.timeouts.upstreamSeconds * 1000,
    });
    sources.push(new RelaySource({ url: config.relay.url, hub, groups }));
  }
  return sources;
}

/** Keeps the registry's entries in step with the streams published on this node. */
export function followPublications(
  publications: LocalPublications,
  registry: PublishRegistry,
): void {
  publications.addEventListener("publish", (event) => registry.register(event.detail));
  publications.addEventListener("unpublish", (event) => registry.unregister(event.detail));
  publications.addEventListener("vacant", (event) => registry.watchMove(event.detail));
}
