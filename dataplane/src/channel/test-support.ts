/**
 * Test support for the channel client (used only by the *.test.ts files here): small snapshots,
 * a silent logger, and a scripted fake controller speaking the protocol over a real websocket.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeMessage } from '@switchyard/api';
import type { ControllerMessage, ir } from '@switchyard/api';
import { pino, type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';

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
      },
    ],
  };
}

export interface FakeConnection {
  ws: WebSocket;
  authorization: string | undefined;
  /** Parsed messages from the data plane, in order. */
  readonly received: Record<string, unknown>[];
  send(message: ControllerMessage): void;
}

/**
 * A websocket server that records connections and what data planes send; the test decides what
 * to answer. `refuse` makes it answer upgrades with 401.
 */
export class FakeController {
  readonly connections: FakeConnection[] = [];
  refuse = false;
  /** Upgrade requests seen, including refused ones. */
  attempts = 0;
  readonly #server: http.Server;
  readonly #wss: WebSocketServer;

  private constructor(server: http.Server) {
    this.#server = server;
    this.#wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      this.attempts++;
      if (this.refuse) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        const connection: FakeConnection = {
          ws,
          authorization: req.headers.authorization,
          received: [],
          send: (message) => ws.send(encodeMessage(message)),
        };
        ws.on('message', (data) => connection.received.push(JSON.parse(String(data)) as Record<string, unknown>));
        this.connections.push(connection);
      });
    });
  }

  static async start(port = 0): Promise<FakeController> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return new FakeController(server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** The latest connection. */
  get last(): FakeConnection {
    const c = this.connections.at(-1);
    if (!c) throw new Error('no connection yet');
    return c;
  }

  /** Messages of `type` received on the latest connection. */
  received(type: string): Record<string, unknown>[] {
    return this.connections.length === 0 ? [] : this.last.received.filter((m) => m.type === type);
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.ws.terminate();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
