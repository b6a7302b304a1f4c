import { SentinelError } from '../errors';

/**
 * Reads a line from a terminal without echoing it: raw mode, one key at a time, backspace
 * edits, Enter ends, Ctrl-C / Ctrl-D abort. Hand-written because Node has no muted prompt and
 * no prompt package is a dependency; what it needs from the terminal is twenty lines.
 */
export function promptHidden(
  question: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  return new Promise((resolve, reject) => {
    // Echo off before the question shows: someone typing ahead must not see the first keys.
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    output.write(question);
    input.resume();
    input.setEncoding('utf8');
    let text = '';
    const finish = (err: Error | null): void => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      // The Enter the user typed was not echoed either: end the prompt's line ourselves.
      output.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003') return finish(new SentinelError('cancelled (Ctrl-C); no user was created'));
        if (ch === '\u0004') {
          if (text === '') return finish(new SentinelError('cancelled (end of input); no user was created'));
          continue;
        }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else if (ch >= ' ') text += ch;
      }
    };
    input.on('data', onData);
  });
}
