/**
 * Test support for the channel client (used only by the *.test.ts files here): small snapshots,
 * a silent logger, and a scripted fake controller speaking the protocol over a real websocket.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeMessage } from '@switchyard/api';
import type { ControllerMessage } from '@switchyard/api';
import { WebSocketServer, type WebSocket } from 'ws';

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
