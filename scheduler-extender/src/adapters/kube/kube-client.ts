/**
 * API clients that keep their connections. client-node (1.4) gives every request a new
 * http(s).Agent, so every call opens a TCP connection and, against a real apiserver, a TLS
 * handshake: milliseconds on the bind path. Here the KubeConfig still authenticates every
 * request (token, client certificate, exec plugins, as client-node does), and the agent it
 * builds is swapped for a keep-alive one with the same TLS options, made once per distinct set
 * of options (a rotated client certificate gets a new agent).
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import { createHash } from 'node:crypto';
import {
  createConfiguration,
  ServerConfiguration,
  type KubeConfig,
  type RequestContext,
  type SecurityAuthentication,
} from '@kubernetes/client-node';

class KeepAliveAuthentication implements SecurityAuthentication {
  private readonly agents = new Map<string, HttpAgent>();

  constructor(
    private readonly kc: KubeConfig,
    private readonly maxSockets: number,
  ) {}

  getName(): string {
    return 'keep-alive';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.kc.applySecurityAuthentication(context);
    const fresh = context.getAgent();
    // Proxy agents (cluster.proxyUrl) are left as client-node makes them.
    if (fresh === undefined || (fresh.constructor !== HttpAgent && fresh.constructor !== HttpsAgent)) return;
    const https = fresh instanceof HttpsAgent;
    const options = (fresh as HttpAgent & { options: HttpsAgentOptions }).options;
    const key = createHash('sha1')
      .update(
        JSON.stringify([
          https,
          options.ca,
          options.cert,
          options.key,
          options.pfx,
          options.rejectUnauthorized,
          options.servername,
        ]),
      )
      .digest('hex');
    let agent = this.agents.get(key);
    if (agent === undefined) {
      const keep = { ...options, keepAlive: true, maxSockets: this.maxSockets };
      agent = https ? new HttpsAgent(keep) : new HttpAgent(keep);
      this.agents.set(key, agent);
    }
    context.setAgent(agent);
  }
}

/** `kc.makeApiClient(Api)`, with connections kept alive between requests. */
export function keepAliveApiClient<T>(
  kc: KubeConfig,
  api: new (config: ReturnType<typeof createConfiguration>) => T,
  maxSockets = 32,
): T {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig has no current cluster');
  const config = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: new KeepAliveAuthentication(kc, maxSockets) },
  });
  return new api(config);
}
