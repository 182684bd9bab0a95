import { once } from 'node:events';
import net from 'node:net';

/** Commands as one RESP buffer, encoded before any clock starts. */
export const encodeResp = (commands: readonly (readonly string[])[]): Buffer => {
  const parts: string[] = [];
  for (const command of commands) {
    parts.push(`*${command.length}\r\n`);
    for (const arg of command) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  }
  return Buffer.from(parts.join(''));
};

export interface RawRespConnection {
  /** Writes a pipeline and resolves once `replies` replies are in (each of one line: +OK, :n). */
  send(buffer: Buffer, replies: number): Promise<void>;
  close(): void;
}

/**
 * A bare socket to Redis, no client library: what Redis itself does with a pipeline of writes,
 * as redis-benchmark would measure it. Only for commands that answer one line each.
 */
export const connectRawResp = async (url: string): Promise<RawRespConnection> => {
  const { port, hostname } = new URL(url);
  const socket = net.connect(Number(port || 6379), hostname || '127.0.0.1');
  await once(socket, 'connect');
  socket.setNoDelay(true);
  let awaited = 0;
  let onAllReplies: (() => void) | null = null;
  socket.on('data', (chunk: Buffer) => {
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) awaited--;
    if (awaited <= 0 && onAllReplies !== null) onAllReplies();
  });
  return {
    send: (buffer, replies) =>
      new Promise<void>((resolve) => {
        awaited = replies;
        onAllReplies = resolve;
        socket.write(buffer);
      }),
    close: () => void socket.end(),
  };
};
