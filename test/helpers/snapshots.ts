/**
 * The smallest snapshot that serves traffic, and a silent logger: shared by the controller's and
 * the data plane's channel tests (which may not import each other) and the integration tests.
 */
import type { ir } from '@switchyard/api';
import { pino, type Logger } from 'pino';

export function silentLogger(): Logger {
  return pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

/** One TCP listener on 127.0.0.1:`listenerPort` in front of one server on `serverPort`. */
export function tcpSnapshot(serverPort: number, listenerPort = 0): ir.Snapshot {
  return {
    listeners: [
      {
        name: 'default/web#0',
        frontend: 'default/web',
        mode: 'tcp',
        address: '127.0.0.1',
        port: listenerPort,
        acceptProxy: false,
        maxConnections: 100,
        timeouts: { clientMs: 5000, httpRequestMs: 5000, httpKeepAliveMs: 5000, tunnelMs: null },
        forwardFor: null,
        defaultCluster: 'default/web',
        rules: null,
      },
    ],
    clusters: [
      {
        name: 'default/web',
        mode: 'tcp',
        balance: { algorithm: 'roundrobin', hashType: 'map-based', hashKey: null, uri: null, randomDraws: 2 },
        servers: [
          {
            name: 's1',
            id: 1,
            address: '127.0.0.1',
            port: serverPort,
            weight: 1,
            maxConnections: 0,
            backup: false,
            disabled: false,
            slowStartMs: null,
            cookie: null,
            proxyProtocol: null,
          },
        ],
        health: null,
        timeouts: { connectMs: 1000, serverMs: 5000, queueMs: 1000, tunnelMs: null },
        retries: 0,
        redispatch: false,
        allBackups: false,
        forwardFor: null,
        httpReuse: 'safe',
        cookie: null,
        stick: null,
      },
    ],
    stickTables: [],
  };
}
