/**
 * Which download failures are worth retrying. Transient: server errors, resets,
 * timeouts, a body cut short. Final: 4xx answers, and the offline family (DNS
 * failure, refused or unreachable host), which a retry would only make slower.
 */

/** Error codes meaning "this machine cannot reach that host at all". */
const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'ESOCKETTIMEDOUT', 'EPROTO', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);
const TRANSIENT_STATUS = new Set([408, 425, 429]);

export class DownloadError extends Error {
  constructor(message: string, readonly transient: boolean, readonly offline = false, readonly code?: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

export function httpStatusError(url: string, status: number, statusText: string | undefined): DownloadError {
  const transient = status >= 500 || TRANSIENT_STATUS.has(status);
  return new DownloadError(`${url}: HTTP ${status}${statusText ? ` ${statusText}` : ''}`, transient, false, `HTTP_${status}`);
}

export function offlineHint(): string {
  return 'To work without this download, point at a local copy with `--set data.archive=PATH` (the official cifar-10-binary.tar.gz, or an image-folder directory/.tar/.tar.gz), or use the synthetic data with `--profile smoke`.';
}

/** Turns a socket/DNS error into a DownloadError saying what failed and whether a retry may help. */
export function classifyNetworkError(url: string, err: unknown): DownloadError {
  if (err instanceof DownloadError) return err;
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  const message = (err as Error)?.message ?? String(err);
  if (OFFLINE_CODES.has(code)) {
    const what = code.startsWith('EAI') || code === 'ENOTFOUND' ? `cannot resolve the host name of ${url}` : `cannot connect to ${url}`;
    return new DownloadError(`Download failed: ${what} (${code}: ${message}). ${offlineHint()}`, false, true, code);
  }
  const transient = TRANSIENT_CODES.has(code) || /socket hang up|aborted|premature|timed out|ended before/i.test(message);
  return new DownloadError(`${url}: ${message}${code ? ` (${code})` : ''}`, transient, false, code || undefined);
}
