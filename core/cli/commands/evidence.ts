import { requireSentinelDataDir } from '../../data-dir';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { SentinelError } from '../../errors';
import { loadOrCreateSigningKey, verifyEvidencePackage } from '../../evidence';
import { printJson } from '../util';

/**
 * `sentinel evidence verify PKG`: what a court clerk, an inspector or a defence expert runs
 * on a package. Exit 0 when every file matches the signed manifest; exit 1 naming the
 * first altered, missing or extra file (or the broken signature).
 * `sentinel evidence key`: the installation's public key and fingerprint, to publish.
 */
export function registerEvidence(program: Command): void {
  const ev = program.command('evidence').description('signed evidence packages');
  ev.command('verify')
    .description('check every file of an evidence package against its signed manifest')
    .argument('<package>', 'the evidence ZIP')
    .option(
      '--key <file>',
      "the installation's public key (PEM); without it, the key inside the package is used and its fingerprint printed",
    )
    .option('--json', 'print the result as JSON')
    .action(async (pkg: string, opts: { key?: string; json?: boolean }) => {
      let trusted: string | undefined;
      if (opts.key) {
        try {
          trusted = readFileSync(opts.key, 'utf8');
        } catch (err) {
          throw new SentinelError(`cannot read the key ${opts.key}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
      const r = await verifyEvidencePackage(pkg, trusted ? { trustedPublicKeyPem: trusted } : {});
      if (opts.json) {
        printJson({
          ok: r.ok,
          problems: r.problems,
          fingerprint: r.fingerprint,
          filesChecked: r.filesChecked,
          subject: r.manifest?.subject ?? null,
          createdAt: r.manifest?.createdAt ?? null,
          derivedFrom: r.manifest?.derivedFrom ?? null,
        });
        if (!r.ok) process.exitCode = 1;
        return;
      }
      if (!r.ok) throw new SentinelError(`${pkg}: ${r.problems[0]!.message}`);
      process.stdout.write(
        `${pkg}: OK — ${r.filesChecked} files match the manifest, signed by key ${r.fingerprint}${trusted ? ' (the trusted key)' : ' (compare with the installation key the CTA publishes)'}; ${r.manifest!.subject.kind} ${r.manifest!.subject.id}, created ${r.manifest!.createdAt}\n` +
          (r.manifest!.derivedFrom
            ? `a redacted copy of the package with SHA-256 ${r.manifest!.derivedFrom.sha256} (export ${r.manifest!.derivedFrom.exportId})\n`
            : ''),
      );
    });
  ev.command('key')
    .description("print this installation's evidence public key (PEM) and fingerprint")
    .option('--data-dir <dir>', 'the data directory')
    .option('--config <file>', 'config file')
    .action((opts: { dataDir?: string; config?: string }) => {
      const config = loadConfig({ configFile: opts.config, dataDir: opts.dataDir });
      requireSentinelDataDir(config.dataDir);
      const key = loadOrCreateSigningKey(config.dataDir);
      process.stdout.write(`fingerprint ${key.fingerprint}\n${key.publicKeyPem}`);
    });
}
