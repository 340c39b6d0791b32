import type { Server } from 'node:http';
import { type AddressInfo, createServer, type Server as NetServer } from 'node:net';

/** The default port of `npm run dev`'s SES emulator (API.md § Orders). */
export const DEFAULT_SES_PORT = 8005;

/** An e-mail as the emulator keeps it (`GET /store`; aws-ses-v2-local's `Email`). */
export interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  /** When it was accepted, in epoch seconds. */
  at: number;
}

export interface LocalMail {
  /** SES endpoint for `SES_ENDPOINT`; its web page (every e-mail sent) is the same URL. */
  endpoint: string;
  port: number;
  /** Environment for the functions: `SES_ENDPOINT`, `MAIL_FROM`, dummy credentials. */
  env: Record<string, string>;
  /** Every e-mail the emulator accepted, oldest first, read through its API (`GET /store`). */
  emails(): Promise<StoredEmail[]>;
  /** Stops the emulator and frees its port. */
  stop(): Promise<void>;
  /**
   * An SES outage: stops the emulator but keeps its port, resetting every connection, so no
   * other process can take the port meanwhile and answer in its place (tests run in parallel).
   */
  outage(): Promise<void>;
  /** Starts it again on the same port; the e-mails of this process are kept. */
  start(): Promise<void>;
}

type StartServer = (config?: { host?: string; port?: number }) => Promise<Server>;

/** aws-ses-v2-local's `server` function (a CommonJS `exports.default`, however it is imported). */
async function emulator(): Promise<StartServer> {
  const module = (await import('aws-ses-v2-local')) as unknown as {
    default: StartServer | { default: StartServer };
  };
  return typeof module.default === 'function' ? module.default : module.default.default;
}

/** Listens on 127.0.0.1:`port`; rejects when the port cannot be bound. */
async function listen(start: StartServer, port: number): Promise<Server> {
  const server = await start({ host: '127.0.0.1', port });
  // Express 5 calls back on a listen error too: a server that is not listening did not bind.
  if (!server.listening) {
    server.close();
    const error = new Error(
      `SES_PORT ${port} is already in use (another npm run dev, or another program).`,
    ) as NodeJS.ErrnoException;
    error.code = 'EADDRINUSE';
    throw error;
  }
  return server;
}

/**
 * Starts the local SES: `aws-ses-v2-local` in this process, speaking the SES v2 API
 * (`POST /v2/email/outbound-emails` for `SendEmail`), on 127.0.0.1:`port` (0: a free one).
 * Its page at `endpoint` shows every e-mail sent; `GET /store` returns them as JSON. It
 * checks only that requests carry an AWS `Authorization` header (any credentials do). The
 * e-mails live in this process's memory. `from` is the sender the functions use
 * (`MAIL_FROM`). Errors: the port is taken (`code` `EADDRINUSE`).
 */
export async function startLocalMail(
  options: { port?: number; from?: string | undefined } = {},
): Promise<LocalMail> {
  const start = await emulator();
  let server = await listen(start, options.port ?? 0);
  /** The port's holder during an `outage`. */
  let hold: NetServer | undefined;
  const release = async () => {
    if (hold) await closeServer(hold);
    hold = undefined;
  };
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    env: {
      SES_ENDPOINT: endpoint,
      MAIL_FROM: options.from ?? 'orders@localhost.test',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    },
    emails: async () => {
      const response = await fetch(`${endpoint}/store`);
      if (!response.ok) throw new Error(`GET /store answered ${response.status}`);
      return ((await response.json()) as { emails: StoredEmail[] }).emails;
    },
    stop: async () => {
      await release();
      await closeServer(server);
    },
    outage: async () => {
      await closeServer(server);
      const blocker = createServer((socket) => socket.resetAndDestroy());
      await new Promise<void>((resolve, reject) => {
        blocker.once('error', reject);
        blocker.listen(port, '127.0.0.1', resolve);
      });
      hold = blocker;
    },
    start: async () => {
      await release();
      server = await listen(start, port);
    },
  };
}

/** Closes `server` and every connection it has (keep-alive ones too). */
function closeServer(server: Server | NetServer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((error) =>
      error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING'
        ? reject(error)
        : resolve(),
    );
    if ('closeAllConnections' in server) server.closeAllConnections();
  });
}
