/**
 * Accepted connections as sockets that read through a Reader (sockets/reader.ts). Node gives
 * the `onread` option only to sockets one constructs (net.connect, new net.Socket), not to the
 * ones a net.Server accepts, so this takes over the listening handle's connection callback and
 * builds each socket the way net's own callback does, with `onread` added. The socket starts
 * paused: reading begins when its user calls resume(), after it has set the reader's sink.
 *
 * `_handle`, `onconnection` and the `handle` socket option are Node internals (net.js uses
 * them to create accepted sockets, as do tls and cluster); the pinned Node 24 has them, and
 * `acceptWithReaders` fails loudly, naming what is missing, should a Node release drop them.
 */
import net from 'node:net';
import { Reader } from './reader.ts';

/** The part of libuv's TCP handle (Node's TCPWrap) this uses. */
interface TcpHandle {
  onconnection: ((err: number, client: TcpHandle | undefined) => void) | null;
  setNoDelay(on: boolean): number;
}

/** Called with each accepted socket (paused) and its reader (sink not yet set). */
export type OnAccept = (socket: net.Socket, reader: Reader) => void;

/** Serves `server`'s connections through `onAccept`; call once it is listening. */
export function acceptWithReaders(server: net.Server, onAccept: OnAccept): void {
  const handle = (server as unknown as { _handle?: TcpHandle | null })._handle;
  if (handle === null || handle === undefined || typeof handle.onconnection !== 'function') {
    throw new Error(`acceptWithReaders: this Node (${process.version}) has no net.Server _handle.onconnection; Switchyard needs Node 24`);
  }
  handle.onconnection = (err, client) => {
    // A failed accept (EMFILE...): libuv has already shed the connection; the server goes on.
    if (err !== 0 || client === undefined) return;
    const reader = new Reader(noSink);
    const socket = new net.Socket({
      handle: client as unknown as net.SocketConstructorOpts['handle'],
      pauseOnCreate: true,
      readable: true,
      writable: true,
      onread: reader.onread,
    } as net.SocketConstructorOpts);
    client.setNoDelay(true);
    onAccept(socket, reader);
  };
}

function noSink(): void {
  throw new Error('a socket was read before its reader had a sink');
}
