import { writeFileSync } from 'node:fs';
import yauzl from 'yauzl';
import yazl from 'yazl';

export interface ZipEntry {
  name: string;
  data: Buffer;
}

/** Every file of a ZIP with its bytes (test-sized packages only: all in memory). */
export async function readZip(file: string): Promise<ZipEntry[]> {
  const zip = await new Promise<yauzl.ZipFile>((res, rej) =>
    yauzl.open(file, { lazyEntries: true }, (e, z) => (e || !z ? rej(e ?? new Error('cannot open')) : res(z))),
  );
  const out: ZipEntry[] = [];
  await new Promise<void>((res, rej) => {
    zip.on('end', () => res()).on('error', rej);
    zip.on('entry', (en: yauzl.Entry) =>
      zip.openReadStream(en, (e, s) => {
        if (e || !s) return rej(e ?? new Error('cannot read'));
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
          out.push({ name: en.fileName, data: Buffer.concat(chunks) });
          zip.readEntry();
        });
      }),
    );
    zip.readEntry();
  });
  return out;
}

export async function writeZip(file: string, entries: ZipEntry[]): Promise<void> {
  const z = new yazl.ZipFile();
  for (const e of entries) z.addBuffer(e.data, e.name);
  z.end();
  const chunks: Buffer[] = [];
  await new Promise<void>((res, rej) =>
    z.outputStream
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => res())
      .on('error', rej),
  );
  writeFileSync(file, Buffer.concat(chunks));
}

/** Rewrites a package entry by entry, as someone tampering with it would. */
export async function rewriteZip(src: string, dst: string, edit: (entries: ZipEntry[]) => ZipEntry[]): Promise<void> {
  await writeZip(dst, edit(await readZip(src)));
}
