import type { ChildProcess } from 'node:child_process';
import type { LiveSource } from './restreamer';

/**
 * Feeds a camera's restreamed fMP4 into a child ffmpeg's stdin (the analysis decoder, the
 * recorder). One stream session per child: when the stream ends or a new init arrives,
 * stdin is closed so ffmpeg finishes its work and exits, and its owner starts a fresh one.
 *
 * A child that cannot keep up (stdin full) skips fragments until the next keyframe, so it
 * never holds back the camera or the other consumers and never decodes a broken GOP.
 */
export function pipeLive(source: LiveSource, child: ChildProcess): () => void {
  const stdin = child.stdin;
  if (!stdin) return () => undefined;
  let started = false;
  let closed = false;
  let full = false;
  let skipping = false;
  // EPIPE when ffmpeg exits first: its exit is handled by the owner's 'close' listener.
  stdin.on('error', () => undefined);
  stdin.on('drain', () => {
    full = false;
  });
  const close = (): void => {
    if (closed) return;
    closed = true;
    detach();
    stdin.end();
  };
  const write = (b: Buffer): void => {
    if (closed || stdin.destroyed) return;
    if (!stdin.write(b)) full = true;
  };
  const detach = source.attach({
    init(data) {
      if (started) return close(); // a new stream session: this ffmpeg's input is over
      started = true;
      write(data);
    },
    fragment(data, key) {
      if (!started) return;
      if (full) {
        skipping = true;
        return;
      }
      if (skipping && !key) return;
      skipping = false;
      write(data);
    },
    end() {
      close();
    },
  });
  return () => {
    closed = true;
    detach();
  };
}
