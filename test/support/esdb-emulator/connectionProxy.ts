import net from 'node:net';

export interface DropOptions {
  /** true: close both sides in order (FIN), so the client sees the connection end at once. */
  readonly graceful: boolean;
  /**
   * Only when not graceful: true answers the client's next bytes with a TCP reset; false (the
   * default) leaves its socket open and answers nothing, ever — a network cut or a connection
   * that died while a Lambda was frozen. The client finds out by keepalive or deadline.
   */
  readonly reset?: boolean;
}

interface Link {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** Silent links swallow every byte; the upstream side is gone. */
  silent: boolean;
  /** Bytes were thrown away while blackholed: the HTTP/2 session cannot be trusted again. */
  corrupted: boolean;
}

/**
 * A TCP relay in front of the gRPC server. The connection string points here, so the emulator
 * owns the client sockets and can cut, reset or silence them; the server and its state live on.
 */
export class ConnectionProxy {
  private readonly links = new Set<Link>();
  private blackholed = false;

  private constructor(
    private readonly server: net.Server,
    private readonly targetPort: number,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  static async start(targetPort: number, listenPort = 0): Promise<ConnectionProxy> {
    const server = net.createServer({ noDelay: true });
    const proxy = new ConnectionProxy(server, targetPort);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  get openConnections(): number {
    return [...this.links].filter((link) => !link.silent).length;
  }

  drop({ graceful, reset = false }: DropOptions): void {
    for (const link of [...this.links]) {
      if (link.silent) continue;
      if (graceful) {
        link.client.end();
        link.upstream.end();
        continue;
      }
      if (reset) {
        link.client.resetAndDestroy();
        link.upstream.destroy();
        this.links.delete(link);
        continue;
      }
      link.silent = true;
      link.upstream.destroy();
    }
  }

  /** While on, connections are accepted and every byte in either direction is thrown away. */
  setBlackhole(on: boolean): void {
    this.blackholed = on;
    if (on) return;
    for (const link of [...this.links]) {
      if (!link.corrupted) continue;
      link.client.resetAndDestroy();
      link.upstream.destroy();
      this.links.delete(link);
    }
  }

  async close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    this.links.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    client.setNoDelay(true);
    const upstream = net.connect({ port: this.targetPort, host: '127.0.0.1', noDelay: true });
    const link: Link = { client, upstream, silent: false, corrupted: false };
    this.links.add(link);
    this.relay(link, client, upstream);
    this.relay(link, upstream, client);

    const forget = (): void => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', forget);
    client.on('close', forget);
    upstream.on('error', () => {
      if (!link.silent) forget();
    });
    upstream.on('close', () => {
      if (!link.silent) forget();
    });
  }

  private relay(link: Link, from: net.Socket, to: net.Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (link.silent) return;
      if (this.blackholed) {
        link.corrupted = true;
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => {
      if (!link.silent) to.end();
    });
  }
}
