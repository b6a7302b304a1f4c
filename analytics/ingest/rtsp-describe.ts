import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * A minimal RTSP client that sends one DESCRIBE (answering a Basic or Digest challenge once)
 * and reports what happened. It exists for two reasons ffmpeg cannot serve: a clear,
 * distinct reason when a camera cannot be reached (refused, unknown host, timeout, wrong
 * credentials, not an RTSP server), and a cheap "is the stream back?" check that the
 * supervisor runs during its backoff without spawning a decoder.
 */
export type DescribeOutcome =
  | { kind: 'ok'; sdp: string }
  | { kind: 'unauthorized'; message: string }
  | { kind: 'not_found'; message: string }
  | { kind: 'refused'; message: string }
  | { kind: 'host_not_found'; message: string }
  | { kind: 'unreachable'; message: string }
  | { kind: 'timeout'; message: string }
  | { kind: 'not_rtsp'; message: string }
  | { kind: 'rtsp_error'; status: number; message: string };

export interface DescribeOptions {
  username?: string | undefined;
  password?: string | undefined;
  timeoutMs?: number;
}

interface RtspReply {
  status: number;
  reason: string;
  headers: Map<string, string>;
  body: string;
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

function authHeader(challenge: string, method: string, uri: string, user: string, pass: string): string | null {
  if (/^basic/i.test(challenge)) return `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;
  if (!/^digest/i.test(challenge)) return null;
  const param = (k: string): string | undefined => new RegExp(`${k}="?([^",]*)"?`, 'i').exec(challenge)?.[1];
  const realm = param('realm') ?? '';
  const nonce = param('nonce') ?? '';
  const response = md5(`${md5(`${user}:${realm}:${pass}`)}:${nonce}:${md5(`${method}:${uri}`)}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}"`;
}

/** Reads one RTSP response (status line, headers, Content-Length body) from a socket. */
function readReply(sock: Socket, timeoutMs: number): Promise<RtspReply> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 5 && !buf.subarray(0, 5).toString('latin1').startsWith('RTSP/')) {
        done(
          Object.assign(
            new Error(
              `the server answered "${buf
                .subarray(0, 40)
                .toString('latin1')
                .replace(/[^\x20-\x7e]/g, '.')}" instead of RTSP`,
            ),
            { code: 'NOT_RTSP' },
          ),
        );
        return;
      }
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 65536) done(Object.assign(new Error('RTSP headers longer than 64 KiB'), { code: 'NOT_RTSP' }));
        return;
      }
      const head = buf.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^RTSP\/\d\.\d (\d{3}) ?(.*)$/.exec(head[0] ?? '');
      if (!m) {
        done(Object.assign(new Error('malformed RTSP status line'), { code: 'NOT_RTSP' }));
        return;
      }
      const headers = new Map<string, string>();
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
      }
      const len = Number(headers.get('content-length') ?? 0);
      if (buf.length < end + 4 + len) return;
      done(null, { status: Number(m[1]), reason: m[2] ?? '', headers, body: buf.subarray(end + 4, end + 4 + len).toString('utf8') });
    };
    const onError = (err: Error): void => done(err);
    const onClose = (): void => done(Object.assign(new Error('the server closed the connection without answering'), { code: 'NOT_RTSP' }));
    function done(err: Error | null, reply?: RtspReply): void {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('error', onError);
      sock.off('close', onClose);
      if (err) reject(err);
      else if (reply) resolve(reply);
    }
    sock.on('data', onData);
    sock.on('error', onError);
    sock.on('close', onClose);
  });
}

function classify(err: NodeJS.ErrnoException, host: string, port: number): DescribeOutcome {
  switch (err.code) {
    case 'ECONNREFUSED':
      return { kind: 'refused', message: `connection refused by ${host}:${port} (no RTSP server listening there)` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return { kind: 'host_not_found', message: `host "${host}" not found (DNS lookup failed)` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
      return { kind: 'unreachable', message: `host ${host} is unreachable (no route to it)` };
    case 'ETIMEDOUT':
      return { kind: 'timeout', message: `no answer from ${host}:${port} (timed out)` };
    case 'NOT_RTSP':
      return { kind: 'not_rtsp', message: `${host}:${port} is not an RTSP server: ${err.message}` };
    case 'ECONNRESET':
    case 'EPIPE':
      return { kind: 'not_rtsp', message: `${host}:${port} reset the connection (not an RTSP server, or it refused us)` };
    default:
      return { kind: 'unreachable', message: `cannot reach ${host}:${port}: ${err.message}` };
  }
}

/**
 * DESCRIBE `url` (no credentials in it; pass them in opts). Never throws: every failure is
 * an outcome with a one-line message that names the host and never the password.
 */
export async function rtspDescribe(url: string, opts: DescribeOptions = {}): Promise<DescribeOutcome> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const u = new URL(url);
  const tls = u.protocol === 'rtsps:';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port ? Number(u.port) : tls ? 322 : 554;
  const deadline = Date.now() + timeoutMs;
  let sock: Socket;
  try {
    sock = await new Promise<Socket>((resolve, reject) => {
      const s = tls ? tlsConnect({ host, port, rejectUnauthorized: false }) : connect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      s.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  } catch (err) {
    return classify(err as NodeJS.ErrnoException, host, port);
  }
  try {
    let cseq = 1;
    const send = (auth?: string): void => {
      sock.write(
        `DESCRIBE ${url} RTSP/1.0\r\nCSeq: ${cseq++}\r\nAccept: application/sdp\r\nUser-Agent: sentinel\r\n${auth ? `Authorization: ${auth}\r\n` : ''}\r\n`,
      );
    };
    send();
    let reply = await readReply(sock, Math.max(100, deadline - Date.now()));
    if (reply.status === 401 && (opts.username || opts.password)) {
      const challenge = reply.headers.get('www-authenticate') ?? '';
      const auth = authHeader(challenge, 'DESCRIBE', url, opts.username ?? '', opts.password ?? '');
      if (auth) {
        send(auth);
        reply = await readReply(sock, Math.max(100, deadline - Date.now()));
      }
    }
    if (reply.status === 200) return { kind: 'ok', sdp: reply.body };
    if (reply.status === 401) {
      return {
        kind: 'unauthorized',
        message:
          opts.username || opts.password
            ? `401 Unauthorized from ${host}:${port}: the user name or password is wrong`
            : `401 Unauthorized from ${host}:${port}: the camera needs a user name and password`,
      };
    }
    if (reply.status === 404) return { kind: 'not_found', message: `404 Not Found: ${host}:${port} has no stream at ${u.pathname}` };
    return { kind: 'rtsp_error', status: reply.status, message: `RTSP ${reply.status} ${reply.reason} from ${host}:${port}` };
  } catch (err) {
    return classify(err as NodeJS.ErrnoException, host, port);
  } finally {
    sock.destroy();
  }
}
