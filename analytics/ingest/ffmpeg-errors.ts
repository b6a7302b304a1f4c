/**
 * Turns ffmpeg/ffprobe stderr into one line an operator can act on. ffmpeg's own last line
 * is often generic ("Input/output error", "Invalid data found"), so the specific cause is
 * looked for in the whole tail first. Passwords never appear: ffmpeg is given URLs whose
 * credentials we mask here too, in case a message echoes the URL.
 */
const RULES: ReadonlyArray<[RegExp, string]> = [
  [/401 Unauthorized/i, '401 Unauthorized: wrong or missing user name / password'],
  [/403 Forbidden/i, '403 Forbidden: the camera refused this user'],
  [/404 Not Found/i, '404 Not Found: the camera has no stream at this path'],
  [/Connection refused/i, 'connection refused (no RTSP server listening on that port)'],
  [/Failed to resolve hostname|Name or service not known|Temporary failure in name resolution/i, 'host not found (DNS lookup failed)'],
  [/No route to host|Network is unreachable/i, 'host unreachable'],
  [/Connection timed out|Operation timed out|timed out/i, 'timed out waiting for the camera'],
  [/Connection reset by peer/i, 'the camera reset the connection'],
  [/End of file|Broken pipe/i, 'the stream ended'],
  [/Invalid data found when processing input/i, 'the source sent data that is not a playable stream'],
  [/could not find codec parameters|Could not find codec parameters/i, 'no decodable video in the stream'],
  [/does not contain any stream|Output file #0 does not contain any stream|matches no streams/i, 'the stream has no video track'],
];

export function describeFfmpegError(stderr: string, fallback = 'ffmpeg stopped'): string {
  for (const [re, msg] of RULES) if (re.test(stderr)) return msg;
  const last = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1);
  return last ? `${fallback}: ${maskUrls(last).slice(0, 200)}` : fallback;
}

/** Masks the password of any URL in a line of text (ffmpeg echoes input URLs in errors). */
export function maskUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
}
